using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Confluent.Kafka;
using FlashSale.Engine.Backpressure;
using FlashSale.Engine.Kafka;
using FlashSale.Engine.Redis;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace FlashSale.Engine.Relay;

public enum AckOutcome
{
    /// <summary>Kafka confirmed the event with an offset (acks=all): the reservation survives Redis.</summary>
    Durable,

    /// <summary>Not confirmed within the caller's deadline; the produce goes on and the relay is the safety net.</summary>
    TimedOut,

    /// <summary>The producer refused or gave up: the entry stays in the outbox for the relay, or for a retry.</summary>
    Failed,
}

/// <summary>One produce of this process: its delivery completes with true once Kafka confirmed the record.</summary>
public sealed class DurableDelivery(int generation)
{
    /// <summary>When it was produced (a Stopwatch timestamp): the backpressure's measure of a Kafka that does not answer.</summary>
    internal long ProducedAt { get; } = Stopwatch.GetTimestamp();

    private readonly TaskCompletionSource<bool> _delivered = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The producer generation it went through (<see cref="EventProducer.Generation"/>).</summary>
    internal int Generation { get; } = generation;

    public Task<bool> Delivered => _delivered.Task;

    internal void Complete(bool durable) => _delivered.TrySetResult(durable);
}

/// <summary>
/// Makes decided reservations durable before they are acknowledged: produces a batch's record to Kafka from the
/// decision's reply (no outbox read; one record and one delivery report for every order of the batch), then settles
/// the outbox entry and the orders' pending marks (settle.lua) in the background, one script per SKU for every
/// record confirmed meanwhile (while one round of settles runs, the next gathers). One produce per order at a time
/// in this process: a replay of an order whose batch is in flight waits for that one. A produce outlives the
/// requests that started it, so a request that timed out still settles its entry once Kafka confirms, and the
/// buyer's retry is answered at once.
/// </summary>
public sealed partial class DurableAcknowledger : IDisposable
{
    private readonly IDatabase _db;
    private readonly SkuScripts _scripts;
    private readonly EventProducer _events;
    private readonly RelayMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<DurableAcknowledger> _logger;
    private readonly DeliveryStats? _stats;

    private readonly ConcurrentDictionary<long, DurableDelivery> _inFlight = new();

    private readonly Channel<Settlement> _settlements = Channel.CreateUnbounded<Settlement>(new UnboundedChannelOptions { SingleReader = true });

    private readonly Task _settling;

    public DurableAcknowledger(
        IDatabase redis,
        SkuScripts scripts,
        EventProducer events,
        RelayMetrics metrics,
        TimeProvider time,
        ILogger<DurableAcknowledger> logger,
        DeliveryStats? stats = null)
    {
        _stats = stats;
        _db = redis;
        _scripts = scripts;
        _events = events;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _settling = Task.Run(SettleAllAsync);
    }

    /// <summary>
    /// Produces the record of a batch the script just decided (its orders are new: nothing else can be producing
    /// them) and returns its delivery; <paramref name="createdAtMs"/> is the decision's time, for the relay's metrics.
    /// </summary>
    public DurableDelivery ProduceBatch(SkuKeys sku, string outboxId, long[] orderNos, byte[] batch, long createdAtMs)
    {
        var producer = _events.Producer;
        var delivery = new DurableDelivery(_events.Generation);
        foreach (var orderNo in orderNos)
        {
            _inFlight[orderNo] = delivery;
        }
        var settled = new Settlement(sku, new SettledEntry(outboxId, orderNos), delivery);
        Produce(producer, ReservationRecords.OfBatch(orderNos[0], batch, sku.Bucket), settled, createdAtMs);
        return delivery;
    }

    /// <summary>
    /// The delivery of an order decided earlier whose event is not yet confirmed (a replay): the produce of its batch
    /// in flight in this process, or else a produce of its event on its own, rebuilt from the ledger (the Persister's
    /// insert absorbs the copy its batch may still bring).
    /// </summary>
    public DurableDelivery ProduceOrder(SkuKeys sku, ReservationEvent reservation, string outboxId)
    {
        var producer = _events.Producer;
        var generation = _events.Generation;
        while (true)
        {
            if (_inFlight.TryGetValue(reservation.OrderNo, out var existing))
            {
                if (existing.Generation == generation)
                {
                    return existing;
                }
                // Sent through a producer that failed and was replaced: its report will never come.
                Complete([reservation.OrderNo], existing, durable: false);
                continue;
            }
            var mine = new DurableDelivery(generation);
            if (_inFlight.TryAdd(reservation.OrderNo, mine))
            {
                var settled = new Settlement(sku, new SettledEntry(outboxId, [reservation.OrderNo], Whole: false), mine);
                Produce(producer, ReservationRecords.OfEvent(reservation with { Bucket = sku.Bucket }), settled, reservation.CreatedAtMs);
                return mine;
            }
        }
    }

    /// <summary>Waits up to <paramref name="timeout"/> for Kafka; <paramref name="started"/> is when the request's wait began (a timestamp).</summary>
    public async Task<AckOutcome> AwaitAsync(DurableDelivery delivery, long started, TimeSpan timeout)
    {
        try
        {
            if (await delivery.Delivered.WaitAsync(timeout, _time))
            {
                _metrics.AckDurable(Stopwatch.GetElapsedTime(started));
                return AckOutcome.Durable;
            }
            _metrics.AckFailed();
            return AckOutcome.Failed;
        }
        catch (TimeoutException)
        {
            _metrics.AckTimedOut();
            return AckOutcome.TimedOut;
        }
    }

    private void Produce(IProducer<string, byte[]> producer, Message<string, byte[]> message, Settlement settled, long createdAtMs)
    {
        try
        {
            producer.Produce(_events.Topic, message, report => Delivered(settled, createdAtMs, report));
        }
        catch (ProduceException<string, byte[]> ex)
        {
            // Refused before it left this process (queue full, a fatal producer): the entry stays for the relay or a retry.
            LogNotProduced(_logger, settled.Entry.OrderNos[0], settled.Entry.OrderNos.Count, ex.Error.Reason);
            if (ex.Error.IsFatal)
            {
                _events.Failed();
            }
            Complete(settled.Entry.OrderNos, settled.Delivery, durable: false);
        }
        catch (KafkaException ex)
        {
            LogNotProduced(_logger, settled.Entry.OrderNos[0], settled.Entry.OrderNos.Count, ex.Error.Reason);
            Complete(settled.Entry.OrderNos, settled.Delivery, durable: false);
        }
    }

    // On librdkafka's delivery thread: completes the waiters (their continuations run elsewhere) and hands the
    // Redis clean-up to the thread pool.
    private void Delivered(Settlement settled, long createdAtMs, DeliveryReport<string, byte[]> report)
    {
        if (!EventProducer.IsDurable(report))
        {
            _stats?.Completed(settled.Delivery.ProducedAt, report.Message.Value.Length, delivered: false);
            LogNotProduced(_logger, settled.Entry.OrderNos[0], settled.Entry.OrderNos.Count, report.Error.IsError ? report.Error.Reason : "no offset");
            Complete(settled.Entry.OrderNos, settled.Delivery, durable: false);
            return;
        }
        settled.Delivery.Complete(true);
        _stats?.Completed(settled.Delivery.ProducedAt, report.Message.Value.Length);
        // Counted as the relay counts its deliveries: an outbox record is in Kafka, whoever sent it.
        _metrics.Delivered(settled.Entry.OrderNos.Count, createdAtMs);
        _settlements.Writer.TryWrite(settled);
    }

    private async Task SettleAllAsync()
    {
        var batch = new List<Settlement>();
        while (await _settlements.Reader.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < 1_000 && _settlements.Reader.TryRead(out var settlement))
            {
                batch.Add(settlement);
            }
            // One script per SKU, all of them sent at once (pipelined on the multiplexer).
            await Task.WhenAll(batch.GroupBy(s => s.Sku).Select(sku => SettleAsync(_db, sku.Key, [.. sku])));
        }
    }

    private async Task SettleAsync(IDatabase db, SkuKeys sku, Settlement[] settlements)
    {
        try
        {
            await _scripts.SettleAsync(db, sku, RelayOptions.ConsumerGroup, [.. settlements.Select(s => s.Entry)]);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ScriptException)
        {
            // The events are durable all the same; the relay's safety net sends the entries again (absorbed) and settles them.
            LogSettleFailed(_logger, ex, settlements.Length, sku.Tag);
        }
        finally
        {
            // Until now a replay joins these completed deliveries rather than producing the events again.
            foreach (var settlement in settlements)
            {
                Forget(settlement.Entry.OrderNos, settlement.Delivery);
            }
        }
    }

    /// <summary>
    /// How long the oldest record produced here has waited for Kafka's confirmation (zero when none waits). Walks the
    /// orders in flight, so it is for a periodic check, not for every request.
    /// </summary>
    public TimeSpan OldestUnconfirmed()
    {
        var oldest = long.MaxValue;
        foreach (var (_, delivery) in _inFlight)
        {
            if (!delivery.Delivered.IsCompleted && delivery.ProducedAt < oldest)
            {
                oldest = delivery.ProducedAt;
            }
        }
        return oldest == long.MaxValue ? TimeSpan.Zero : Stopwatch.GetElapsedTime(oldest);
    }

    /// <summary>Stops settling once the host stops; what is left unsettled is durable, and the relay settles it later.</summary>
    public void Dispose()
    {
        _settlements.Writer.TryComplete();
        _settling.Wait(TimeSpan.FromSeconds(5));
    }

    private void Complete(IReadOnlyList<long> orderNos, DurableDelivery delivery, bool durable)
    {
        Forget(orderNos, delivery);
        delivery.Complete(durable);
    }

    private void Forget(IReadOnlyList<long> orderNos, DurableDelivery delivery)
    {
        foreach (var orderNo in orderNos)
        {
            _inFlight.TryRemove(new KeyValuePair<long, DurableDelivery>(orderNo, delivery));
        }
    }

    private sealed record Settlement(SkuKeys Sku, SettledEntry Entry, DurableDelivery Delivery);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Durable ack: the record of order {OrderNo} ({Count} order(s)) was not delivered ({Reason}); it stays in the outbox")]
    private static partial void LogNotProduced(ILogger logger, long orderNo, int count, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Durable ack: {Count} durable events of {Sku} were not settled in Redis; the relay will")]
    private static partial void LogSettleFailed(ILogger logger, Exception exception, int count, string sku);
}
