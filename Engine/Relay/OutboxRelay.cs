using System.Collections.Concurrent;
using System.Text;
using System.Threading.Channels;
using Confluent.Kafka;
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
/// </summary>
internal sealed partial class OutboxRelay(
    IConnectionMultiplexer redis,
    IOptions<KafkaOptions> kafka,
    IOptions<RelayOptions> options,
    IOptions<EngineOptions> engine,
    RelayMetrics metrics,
    TimeProvider time,
    ILogger<OutboxRelay> logger) : BackgroundService
{
    private const string Group = RelayOptions.ConsumerGroup;

    private readonly Channel<Pending> _toKafka = Channel.CreateBounded<Pending>(
        new BoundedChannelOptions(options.Value.MaxInFlight) { SingleReader = true });

    private readonly Channel<Pending> _delivered = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });

    // Entries this relay holds between reading and acknowledging; a claim round must not send them twice.
    private readonly ConcurrentDictionary<(RedisKey Stream, RedisValue Id), byte> _inFlight = new();

    private readonly string _consumer = $"ingress-{engine.Value.NodeId}";

    private readonly RelayOptions _settings = options.Value;

    // An idempotent producer that hit a fatal error (e.g. out-of-order sequence) can send nothing more.
    private bool _producerFailed;

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

    private IProducer<string, byte[]> BuildProducer() => new ProducerBuilder<string, byte[]>(kafka.Value.ProducerConfig())
        .SetErrorHandler((_, error) =>
        {
            LogKafkaError(logger, error.Code, error.Reason);
            if (error.IsFatal)
            {
                Volatile.Write(ref _producerFailed, true);
            }
        })
        .Build();

    private async Task ReadOutboxesAsync(CancellationToken stoppingToken)
    {
        var db = redis.GetDatabase();
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
                        var own = await EnqueueAsync(sku.Outbox, await db.StreamReadGroupAsync(sku.Outbox, Group, _consumer, "0", _settings.ReadCount), stoppingToken);
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
                        metrics.Reclaimed(await EnqueueAsync(skus[i].Outbox, claims[i].ClaimedEntries, stoppingToken), ownAtStart: false);
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
                    await EnqueueAsync(skus[i].Outbox, reads[i], stoppingToken);
                }
                if (RelayPolicy.PauseAfter(read, idle, _settings) is { } pause)
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
        foreach (var member in await db.SetMembersAsync(RedisKeyspace.LiveSkus))
        {
            if (!SkuKeys.TryParseMember(member.ToString(), out var sku) || !known.Add(sku))
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

    /// <summary>Queues the entries not already in flight; returns how many.</summary>
    private async Task<int> EnqueueAsync(RedisKey stream, StreamEntry[] entries, CancellationToken stoppingToken)
    {
        var queued = 0;
        foreach (var entry in entries)
        {
            if (entry.IsNull || !_inFlight.TryAdd((stream, entry.Id), 0))
            {
                continue;
            }
            await _toKafka.Writer.WriteAsync(new Pending(stream, entry), stoppingToken);
            queued++;
        }
        return queued;
    }

    private async Task ProduceAsync(CancellationToken stoppingToken)
    {
        var topic = kafka.Value.ReservationsTopic;
        var producer = BuildProducer();
        try
        {
            await foreach (var pending in _toKafka.Reader.ReadAllAsync(stoppingToken))
            {
                if (Volatile.Read(ref _producerFailed))
                {
                    producer = RebuildProducer(producer);
                }
                if (ToMessage(pending) is (var message, var createdAtMs))
                {
                    Produce(producer, topic, pending, message, createdAtMs, stoppingToken);
                }
            }
        }
        finally
        {
            // What Kafka already has is acknowledged on the next start (re-sent, absorbed downstream).
            producer.Flush(TimeSpan.FromSeconds(5));
            producer.Dispose();
        }
    }

    /// <summary>
    /// Replaces a producer that failed fatally. Its unconfirmed entries are forgotten locally and stay
    /// pending in Redis, so the claim round sends them again through the new producer.
    /// </summary>
    private IProducer<string, byte[]> RebuildProducer(IProducer<string, byte[]> failed)
    {
        LogRebuildingProducer(logger);
        failed.Dispose();
        _inFlight.Clear();
        Volatile.Write(ref _producerFailed, false);
        return BuildProducer();
    }

    /// <summary>The Kafka message of an outbox entry, and the reservation's createdAt for the relay lag.</summary>
    private (Message<string, byte[]> Message, long CreatedAtMs)? ToMessage(Pending pending)
    {
        ReservationEvent reservation;
        try
        {
            reservation = OutboxEntry.Read(pending.Entry);
        }
        catch (FormatException ex)
        {
            // Left pending: an operator can read it with XPENDING/XRANGE; it is never silently dropped.
            LogUnreadable(logger, ex, pending.Stream.ToString(), pending.Entry.Id.ToString());
            return null;
        }
        return (new Message<string, byte[]>
        {
            // Keyed by order number: a re-sent event lands on the same partition as the first copy.
            Key = reservation.OrderNo.ToString(System.Globalization.CultureInfo.InvariantCulture),
            Value = reservation.ToJson(),
            Headers = [new Header("event", Encoding.ASCII.GetBytes("reservation.v1"))],
        }, reservation.CreatedAtMs);
    }

    private void Produce(
        IProducer<string, byte[]> producer, string topic, Pending pending, Message<string, byte[]> message, long createdAtMs, CancellationToken stoppingToken)
    {
        while (true)
        {
            try
            {
                producer.Produce(topic, message, report => OnDelivery(pending, createdAtMs, report));
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
                _inFlight.TryRemove((pending.Stream, pending.Entry.Id), out _);
                if (ex.Error.IsFatal)
                {
                    Volatile.Write(ref _producerFailed, true);
                }
                return;
            }
        }
    }

    private void OnDelivery(Pending pending, long createdAtMs, DeliveryReport<string, byte[]> report)
    {
        // A delivery "confirmed" without an offset (a DUPLICATE_SEQUENCE_NUMBER answer) is not taken on
        // trust: sending it again costs a duplicate, which the persister absorbs; trusting a broker that
        // did not write it would lose an order.
        if (report.Error.IsError || report.Offset == Offset.Unset)
        {
            // Still pending in Redis: release it locally so the next claim round sends it again.
            LogDeliveryFailed(logger, pending.Entry.Id.ToString(), report.Error.IsError ? report.Error.Reason : "no offset");
            _inFlight.TryRemove((pending.Stream, pending.Entry.Id), out _);
            return;
        }
        metrics.Delivered(createdAtMs);
        _delivered.Writer.TryWrite(pending);
    }

    private async Task AcknowledgeAsync(CancellationToken stoppingToken)
    {
        var db = redis.GetDatabase();
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
            foreach (var stream in batch.GroupBy(p => p.Stream))
            {
                var ids = stream.Select(p => p.Entry.Id).ToArray();
                await AcknowledgeWithRetryAsync(db, stream.Key, ids, stoppingToken);
                foreach (var id in ids)
                {
                    _inFlight.TryRemove((stream.Key, id), out _);
                }
            }
        }
    }

    /// <summary>XACK and XDEL together, so no entry can stay in the stream once it left the pending list.</summary>
    private async Task AcknowledgeWithRetryAsync(IDatabase db, RedisKey stream, RedisValue[] ids, CancellationToken stoppingToken)
    {
        while (true)
        {
            try
            {
                var transaction = db.CreateTransaction();
                _ = transaction.StreamAcknowledgeAsync(stream, Group, ids);
                _ = transaction.StreamDeleteAsync(stream, ids);
                await transaction.ExecuteAsync();
                return;
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                LogRedisFailed(logger, ex);
                await Task.Delay(TimeSpan.FromMilliseconds(200), time, stoppingToken);
            }
        }
    }

    private sealed record Pending(RedisKey Stream, StreamEntry Entry);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kafka: {Code} {Reason}")]
    private static partial void LogKafkaError(ILogger logger, ErrorCode code, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Relay: the Kafka producer failed fatally; replacing it and re-sending what it had not confirmed")]
    private static partial void LogRebuildingProducer(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Relay: Redis call failed; retrying")]
    private static partial void LogRedisFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Relay: outbox entry {Stream} {Id} is unreadable and stays pending")]
    private static partial void LogUnreadable(ILogger logger, Exception exception, string stream, string id);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Relay: delivery of {Id} failed ({Reason}); it will be sent again")]
    private static partial void LogDeliveryFailed(ILogger logger, string id, string reason);
}
