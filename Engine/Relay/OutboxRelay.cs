using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Confluent.Kafka;
using FlashSale.Engine.Backpressure;
using FlashSale.Engine.Kafka;
using FlashSale.Engine.Redis;
using FlashSale.Engine.Telemetry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace FlashSale.Engine.Relay;

/// <summary>
/// Moves reservation events from the per-SKU outbox streams to Kafka. Each Ingress is one consumer
/// of the streams' consumer group, so several instances share the work. An entry is acknowledged
/// and deleted from its stream only after Kafka confirmed its delivery; an entry left pending by a
/// dead relay is claimed again after <see cref="RelayOptions.ClaimMinIdleMs"/> (XAUTOCLAIM), and a
/// restarted relay first re-sends its own pending entries. Kafka may therefore see an event twice;
/// the persister's unique order number absorbs that. It never sees an event zero times.
/// <para>
/// With durable acknowledgement (a <see cref="DurableAcknowledger"/> registered) the Ingress that decided a
/// reservation produces its event itself and settles the entry, so the relay is the safety net: it holds an entry
/// until it is <see cref="RelayOptions.SafetyNetAgeMs"/> old (by its stream id, Redis's clock), checks that it is still
/// in the stream, and only then produces it: entries whose Ingress died before producing, or whose produce failed.
/// After Kafka confirmed, it settles the entry as the Ingress would (settle.lua: XACK, XDEL and the pending mark).
/// </para>
/// </summary>
internal sealed partial class OutboxRelay(
    IDatabase db,
    EventProducer events,
    SkuScripts scripts,
    IOptions<RelayOptions> options,
    IOptions<EngineOptions> engine,
    RelayMetrics metrics,
    TimeProvider time,
    ILogger<OutboxRelay> logger,
    DurableAcknowledger? acknowledger = null,
    DeliveryStats? deliveryStats = null) : BackgroundService
{
    private const string Group = RelayOptions.ConsumerGroup;

    private readonly Channel<Pending> _toKafka = Channel.CreateBounded<Pending>(
        new BoundedChannelOptions(options.Value.MaxInFlight) { SingleReader = true });

    private readonly Channel<Pending> _delivered = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });

    // Entries this relay holds between reading and acknowledging; a claim round must not send them twice.
    private readonly ConcurrentDictionary<(RedisKey Stream, RedisValue Id), byte> _inFlight = new();

    private readonly string _consumer = $"ingress-{engine.Value.NodeId}";

    private readonly RelayOptions _settings = options.Value;

    // Entries too young to be the relay's: the Ingress that decided them is producing them. Reader loop only.
    private readonly PriorityQueue<Pending, long> _young = new();

    private readonly int _safetyNetAgeMs = acknowledger is null ? 0 : options.Value.SafetyNetAgeMs;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await Task.WhenAll(
                ReadOutboxesAsync(stoppingToken),
                ProduceAsync(stoppingToken),
                AcknowledgeAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task ReadOutboxesAsync(CancellationToken stoppingToken)
    {
        var skus = new List<SkuKeys>();
        var known = new HashSet<SkuKeys>();
        var nextRefresh = DateTimeOffset.MinValue;
        var nextClaim = time.GetUtcNow().AddMilliseconds(_settings.ClaimIntervalMs);
        var nextPrune = time.GetUtcNow().AddMilliseconds(_settings.PruneIntervalMs);
        var idle = _settings.PollIntervalMs;

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (time.GetUtcNow() >= nextRefresh)
                {
                    foreach (var sku in await NewSkusAsync(db, known))
                    {
                        skus.Add(sku);
                        // Our own entries from before a restart: delivered to us, never acknowledged.
                        var own = await EnqueueAsync(sku, await db.StreamReadGroupAsync(sku.Outbox, Group, _consumer, "0", _settings.ReadCount), stoppingToken);
                        metrics.Reclaimed(own, ownAtStart: true);
                    }
                    nextRefresh = time.GetUtcNow().AddMilliseconds(_settings.RefreshIntervalMs);
                }

                if (time.GetUtcNow() >= nextClaim)
                {
                    var claims = await Task.WhenAll(skus.Select(sku =>
                        db.StreamAutoClaimAsync(sku.Outbox, Group, _consumer, _settings.ClaimMinIdleMs, "0-0", _settings.ReadCount)));
                    for (var i = 0; i < skus.Count; i++)
                    {
                        // Entries this relay still has in flight are idle in Redis too; only the others count.
                        metrics.Reclaimed(await EnqueueAsync(skus[i], claims[i].ClaimedEntries, stoppingToken), ownAtStart: false);
                    }
                    nextClaim = time.GetUtcNow().AddMilliseconds(_settings.ClaimIntervalMs);
                }

                if (time.GetUtcNow() >= nextPrune)
                {
                    foreach (var drained in await EndedAndDrainedAsync(db, skus))
                    {
                        skus.Remove(drained);
                        known.Remove(drained);
                    }
                    nextPrune = time.GetUtcNow().AddMilliseconds(_settings.PruneIntervalMs);
                }

                // One pipelined round trip for every outbox, however many SKUs are live.
                var reads = await Task.WhenAll(skus.Select(sku => db.StreamReadGroupAsync(sku.Outbox, Group, _consumer, ">", _settings.ReadCount)));
                var read = 0;
                for (var i = 0; i < skus.Count; i++)
                {
                    read += reads[i].Length;
                    await EnqueueAsync(skus[i], reads[i], stoppingToken);
                }
                await ReleaseDueAsync(db, stoppingToken);
                if (RelayPolicy.PauseAfter(read, idle, _settings, safetyNet: _safetyNetAgeMs > 0) is { } pause)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(pause), time, stoppingToken);
                    idle = RelayPolicy.NextIdle(idle, _settings);
                }
                else
                {
                    idle = _settings.PollIntervalMs;
                }
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                LogRedisFailed(logger, ex);
                await Task.Delay(TimeSpan.FromSeconds(1), time, stoppingToken);
            }
        }
    }

    private static async Task<List<SkuKeys>> NewSkusAsync(IDatabase db, HashSet<SkuKeys> known)
    {
        var added = new List<SkuKeys>();
        foreach (var sku in await RedisKeyspace.LiveSkusAsync(db))
        {
            if (!known.Add(sku))
            {
                continue;
            }
            try
            {
                await db.StreamCreateConsumerGroupAsync(sku.Outbox, Group, StreamPosition.Beginning, createStream: true);
            }
            catch (RedisServerException ex) when (ex.Message.StartsWith("BUSYGROUP", StringComparison.Ordinal))
            {
                // Another relay made the group first.
            }
            added.Add(sku);
        }
        return added;
    }

    /// <summary>
    /// SKUs whose campaign has ended and whose outbox is empty leave the live set, so no relay polls
    /// them any more. Warm-up puts a SKU back.
    /// </summary>
    private async Task<List<SkuKeys>> EndedAndDrainedAsync(IDatabase db, List<SkuKeys> skus)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var ends = await Task.WhenAll(skus.Select(sku => db.HashGetAsync(sku.Meta, MetaFields.Ends)));
        var lengths = await Task.WhenAll(skus.Select(sku => db.StreamLengthAsync(sku.Outbox)));
        var drained = new List<SkuKeys>();
        for (var i = 0; i < skus.Count; i++)
        {
            if (RelayPolicy.IsDrained(ends[i].IsNull ? null : (long)ends[i], now, lengths[i]))
            {
                await db.SetRemoveAsync(RedisKeyspace.LiveSkus, skus[i].Member);
                drained.Add(skus[i]);
            }
        }
        return drained;
    }

    /// <summary>Queues the entries not already in flight (holding back those still young); returns how many.</summary>
    private async Task<int> EnqueueAsync(SkuKeys sku, StreamEntry[] entries, CancellationToken stoppingToken)
    {
        var queued = 0;
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        foreach (var entry in entries)
        {
            if (entry.IsNull || !_inFlight.TryAdd((sku.Outbox, entry.Id), 0))
            {
                continue;
            }
            var pending = new Pending(sku, entry);
            if (RelayPolicy.DueAtMs(entry.Id.ToString(), _safetyNetAgeMs) is { } due && due > now)
            {
                _young.Enqueue(pending, due);
            }
            else
            {
                await _toKafka.Writer.WriteAsync(pending, stoppingToken);
            }
            queued++;
        }
        return queued;
    }

    /// <summary>
    /// Sends on the held entries that came of age and are still in their stream: their Ingress did not settle them.
    /// One pipelined round trip checks them all. An Ingress that settles one between the check and the produce costs
    /// a duplicate in Kafka, which the persister absorbs.
    /// </summary>
    private async Task ReleaseDueAsync(IDatabase db, CancellationToken stoppingToken)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var due = new List<Pending>();
        while (_young.TryPeek(out _, out var at) && at <= now)
        {
            due.Add(_young.Dequeue());
        }
        if (due.Count == 0)
        {
            return;
        }
        var checks = await Task.WhenAll(due.Select(p => db.StreamRangeAsync(p.Sku.Outbox, p.Entry.Id, p.Entry.Id)));
        for (var i = 0; i < due.Count; i++)
        {
            if (checks[i].Length == 0)
            {
                // Settled by its Ingress (which also acknowledged it in the group).
                _inFlight.TryRemove((due[i].Sku.Outbox, due[i].Entry.Id), out _);
                continue;
            }
            metrics.SafetyNet();
            await _toKafka.Writer.WriteAsync(due[i], stoppingToken);
        }
    }

    private async Task ProduceAsync(CancellationToken stoppingToken)
    {
        var topic = events.Topic;
        var generation = 0;
        // The shared producer is flushed and disposed with the host: what Kafka already has is acknowledged on the
        // next start (re-sent, absorbed downstream).
        await foreach (var pending in _toKafka.Reader.ReadAllAsync(stoppingToken))
        {
            var producer = events.Producer;
            if (events.Generation != generation)
            {
                if (generation != 0)
                {
                    // The producer failed fatally and was replaced: what it had unconfirmed is forgotten locally and
                    // stays pending in Redis, so the claim round sends it again through the new one.
                    _inFlight.Clear();
                }
                generation = events.Generation;
            }
            if (ToMessage(pending) is (var message, var read))
            {
                Produce(producer, topic, read, message, stoppingToken);
            }
        }
    }

    /// <summary>The Kafka record of an outbox entry, and the entry with its orders and the time it was written.</summary>
    private (Message<string, byte[]> Message, Pending Read)? ToMessage(Pending pending)
    {
        OutboxRecord record;
        try
        {
            record = OutboxEntry.Read(pending.Entry, pending.Sku.Bucket);
        }
        catch (FormatException ex)
        {
            // Left pending: an operator can read it with XPENDING/XRANGE; it is never silently dropped.
            LogUnreadable(logger, ex, pending.Sku.Outbox.ToString(), pending.Entry.Id.ToString());
            return null;
        }
        // The stream id's time is when the script wrote the entry (Redis's clock), the decision's time.
        var writtenAtMs = RelayPolicy.WrittenAtMs(pending.Entry.Id.ToString()) ?? time.GetUtcNow().ToUnixTimeMilliseconds();
        return (record.Message, pending with { OrderNos = record.OrderNos, CreatedAtMs = writtenAtMs });
    }

    private void Produce(IProducer<string, byte[]> producer, string topic, Pending pending, Message<string, byte[]> message, CancellationToken stoppingToken)
    {
        while (true)
        {
            try
            {
                var producedAt = Stopwatch.GetTimestamp();
                producer.Produce(topic, message, report => OnDelivery(pending, report, producedAt));
                return;
            }
            catch (ProduceException<string, byte[]> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull)
            {
                // librdkafka's queue is full while Kafka is slow: wait for deliveries to drain it.
                producer.Poll(TimeSpan.FromMilliseconds(100));
                stoppingToken.ThrowIfCancellationRequested();
            }
            catch (ProduceException<string, byte[]> ex)
            {
                // Refused before it left this process: it stays pending in Redis and the claim round sends it again.
                LogDeliveryFailed(logger, pending.Entry.Id.ToString(), ex.Error.Reason);
                _inFlight.TryRemove((pending.Sku.Outbox, pending.Entry.Id), out _);
                if (ex.Error.IsFatal)
                {
                    events.Failed();
                }
                return;
            }
        }
    }

    private void OnDelivery(Pending pending, DeliveryReport<string, byte[]> report, long producedAt)
    {
        // A delivery "confirmed" without an offset (a DUPLICATE_SEQUENCE_NUMBER answer) is not taken on
        // trust: sending it again costs a duplicate, which the persister absorbs; trusting a broker that
        // did not write it would lose an order.
        if (!EventProducer.IsDurable(report))
        {
            // Still pending in Redis: release it locally so the next claim round sends it again.
            deliveryStats?.Completed(producedAt, report.Message.Value.Length, delivered: false);
            LogDeliveryFailed(logger, pending.Entry.Id.ToString(), report.Error.IsError ? report.Error.Reason : "no offset");
            _inFlight.TryRemove((pending.Sku.Outbox, pending.Entry.Id), out _);
            return;
        }
        metrics.Delivered(pending.OrderNos!.Length, pending.CreatedAtMs);
        deliveryStats?.Completed(producedAt, report.Message.Value.Length);
        _delivered.Writer.TryWrite(pending);
    }

    private async Task AcknowledgeAsync(CancellationToken stoppingToken)
    {
        var batch = new List<Pending>();
        while (await _delivered.Reader.WaitToReadAsync(stoppingToken))
        {
            batch.Clear();
            while (batch.Count < 1_000 && _delivered.Reader.TryRead(out var pending))
            {
                batch.Add(pending);
            }
            using var activity = EngineTelemetry.ActivitySource.StartActivity("RelayBatch");
            activity?.SetTag("messaging.batch.message_count", batch.Count);
            foreach (var sku in batch.GroupBy(p => p.Sku))
            {
                var entries = sku.Select(p => new SettledEntry(p.Entry.Id, p.OrderNos!)).ToArray();
                await SettleWithRetryAsync(db, sku.Key, entries, stoppingToken);
                foreach (var entry in entries)
                {
                    _inFlight.TryRemove((sku.Key.Outbox, entry.Id), out _);
                }
            }
        }
    }

    /// <summary>
    /// XACK, XDEL and the orders' pending marks in one script (settle.lua), so no entry can stay in the stream once
    /// it left the pending list, nor an order stay marked not-yet-durable once its event is in Kafka.
    /// </summary>
    private async Task SettleWithRetryAsync(IDatabase db, SkuKeys sku, SettledEntry[] entries, CancellationToken stoppingToken)
    {
        while (true)
        {
            try
            {
                await scripts.SettleAsync(db, sku, Group, entries);
                return;
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                LogRedisFailed(logger, ex);
                await Task.Delay(TimeSpan.FromMilliseconds(200), time, stoppingToken);
            }
        }
    }

    /// <summary>An outbox entry on its way; <see cref="OrderNos"/> and <see cref="CreatedAtMs"/> once it was read.</summary>
    private sealed record Pending(SkuKeys Sku, StreamEntry Entry, long[]? OrderNos = null, long CreatedAtMs = 0);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Relay: Redis call failed; retrying")]
    private static partial void LogRedisFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Relay: outbox entry {Stream} {Id} is unreadable and stays pending")]
    private static partial void LogUnreadable(ILogger logger, Exception exception, string stream, string id);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Relay: delivery of {Id} failed ({Reason}); it will be sent again")]
    private static partial void LogDeliveryFailed(ILogger logger, string id, string reason);
}
