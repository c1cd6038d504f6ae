using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Confluent.Kafka;
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

/// <summary>
/// Makes a decided reservation durable before it is acknowledged: produces its event to Kafka from the decision's
/// reply (no outbox read), waits for the delivery report, then settles the outbox entry and the order's pending
/// mark (settle.lua) in the background, one script per SKU for every event confirmed meanwhile (group commit:
/// while one round of settles runs, the next gathers). One produce per order at a time in this process: a replay
/// of an order whose produce is in flight waits for that one. A produce outlives the request that started it, so a request that
/// timed out still settles its entry once Kafka confirms, and the buyer's retry is answered at once.
/// </summary>
public sealed partial class DurableAcknowledger : IDisposable
{
    private readonly IConnectionMultiplexer _redis;
    private readonly SkuScripts _scripts;
    private readonly EventProducer _events;
    private readonly RelayMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<DurableAcknowledger> _logger;

    private readonly ConcurrentDictionary<long, InFlight> _inFlight = new();

    private readonly Channel<Settlement> _settlements = Channel.CreateUnbounded<Settlement>(new UnboundedChannelOptions { SingleReader = true });

    private readonly Task _settling;

    public DurableAcknowledger(
        IConnectionMultiplexer redis,
        SkuScripts scripts,
        EventProducer events,
        RelayMetrics metrics,
        TimeProvider time,
        ILogger<DurableAcknowledger> logger)
    {
        _redis = redis;
        _scripts = scripts;
        _events = events;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _settling = Task.Run(SettleAllAsync);
    }

    /// <summary>Produces the event (or joins its produce in flight) and waits up to <paramref name="timeout"/> for Kafka.</summary>
    public async Task<AckOutcome> AwaitDurableAsync(SkuKeys sku, ReservationEvent reservation, string outboxId, TimeSpan timeout)
    {
        var started = Stopwatch.GetTimestamp();
        var producer = _events.Producer;
        var generation = _events.Generation;
        InFlight delivery;
        while (true)
        {
            if (_inFlight.TryGetValue(reservation.OrderNo, out var existing))
            {
                if (existing.Generation == generation)
                {
                    delivery = existing;
                    break;
                }
                // Sent through a producer that failed and was replaced: its report will never come.
                Complete(reservation.OrderNo, existing, durable: false);
                continue;
            }
            var mine = new InFlight(new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously), generation);
            if (_inFlight.TryAdd(reservation.OrderNo, mine))
            {
                Produce(producer, sku, reservation, outboxId, mine);
                delivery = mine;
                break;
            }
        }
        try
        {
            if (await delivery.Delivery.Task.WaitAsync(timeout, _time))
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

    private void Produce(IProducer<string, byte[]> producer, SkuKeys sku, ReservationEvent reservation, string outboxId, InFlight delivery)
    {
        try
        {
            producer.Produce(_events.Topic, EventProducer.ToMessage(reservation), report => Delivered(sku, reservation, outboxId, delivery, report));
        }
        catch (ProduceException<string, byte[]> ex)
        {
            // Refused before it left this process (queue full, a fatal producer): the entry stays for the relay or a retry.
            LogNotProduced(_logger, reservation.OrderNo, ex.Error.Reason);
            if (ex.Error.IsFatal)
            {
                _events.Failed();
            }
            Complete(reservation.OrderNo, delivery, durable: false);
        }
        catch (KafkaException ex)
        {
            LogNotProduced(_logger, reservation.OrderNo, ex.Error.Reason);
            Complete(reservation.OrderNo, delivery, durable: false);
        }
    }

    // On librdkafka's delivery thread: completes the waiters (their continuations run elsewhere) and hands the
    // Redis clean-up to the thread pool.
    private void Delivered(SkuKeys sku, ReservationEvent reservation, string outboxId, InFlight delivery, DeliveryReport<string, byte[]> report)
    {
        if (!EventProducer.IsDurable(report))
        {
            LogNotProduced(_logger, reservation.OrderNo, report.Error.IsError ? report.Error.Reason : "no offset");
            Complete(reservation.OrderNo, delivery, durable: false);
            return;
        }
        delivery.Delivery.TrySetResult(true);
        // Counted as the relay counts its deliveries: an outbox event is in Kafka, whoever sent it.
        _metrics.Delivered(reservation.CreatedAtMs);
        _settlements.Writer.TryWrite(new Settlement(sku, new SettledEntry(outboxId, reservation.OrderNo), delivery));
    }

    private async Task SettleAllAsync()
    {
        var db = _redis.GetDatabase();
        var batch = new List<Settlement>();
        while (await _settlements.Reader.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < 1_000 && _settlements.Reader.TryRead(out var settlement))
            {
                batch.Add(settlement);
            }
            // One script per SKU, all of them sent at once (pipelined on the multiplexer).
            await Task.WhenAll(batch.GroupBy(s => s.Sku).Select(sku => SettleAsync(db, sku.Key, [.. sku])));
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
                _inFlight.TryRemove(new KeyValuePair<long, InFlight>(settlement.Entry.OrderNo, settlement.Delivery));
            }
        }
    }

    /// <summary>Stops settling once the host stops; what is left unsettled is durable, and the relay settles it later.</summary>
    public void Dispose()
    {
        _settlements.Writer.TryComplete();
        _settling.Wait(TimeSpan.FromSeconds(5));
    }

    private void Complete(long orderNo, InFlight delivery, bool durable)
    {
        _inFlight.TryRemove(new KeyValuePair<long, InFlight>(orderNo, delivery));
        delivery.Delivery.TrySetResult(durable);
    }

    /// <summary>One order's produce in this process, and the producer generation it went through.</summary>
    private sealed record InFlight(TaskCompletionSource<bool> Delivery, int Generation);

    private sealed record Settlement(SkuKeys Sku, SettledEntry Entry, InFlight Delivery);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Durable ack: the event of order {OrderNo} was not delivered ({Reason}); it stays in the outbox")]
    private static partial void LogNotProduced(ILogger logger, long orderNo, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Durable ack: {Count} durable events of {Sku} were not settled in Redis; the relay will")]
    private static partial void LogSettleFailed(ILogger logger, Exception exception, int count, string sku);
}
