using System.Collections.Concurrent;
using System.Diagnostics;
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
/// mark (settle.lua) in the background. One produce per order at a time in this process: a replay of an order
/// whose produce is in flight waits for that one. A produce outlives the request that started it, so a request that
/// timed out still settles its entry once Kafka confirms, and the buyer's retry is answered at once.
/// </summary>
public sealed partial class DurableAcknowledger(
    IConnectionMultiplexer redis,
    SkuScripts scripts,
    EventProducer events,
    RelayMetrics metrics,
    TimeProvider time,
    ILogger<DurableAcknowledger> logger)
{
    private readonly ConcurrentDictionary<long, InFlight> _inFlight = new();

    /// <summary>Produces the event (or joins its produce in flight) and waits up to <paramref name="timeout"/> for Kafka.</summary>
    public async Task<AckOutcome> AwaitDurableAsync(SkuKeys sku, ReservationEvent reservation, string outboxId, TimeSpan timeout)
    {
        var started = Stopwatch.GetTimestamp();
        var producer = events.Producer;
        var generation = events.Generation;
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
            if (await delivery.Delivery.Task.WaitAsync(timeout, time))
            {
                metrics.AckDurable(Stopwatch.GetElapsedTime(started));
                return AckOutcome.Durable;
            }
            metrics.AckFailed();
            return AckOutcome.Failed;
        }
        catch (TimeoutException)
        {
            metrics.AckTimedOut();
            return AckOutcome.TimedOut;
        }
    }

    private void Produce(IProducer<string, byte[]> producer, SkuKeys sku, ReservationEvent reservation, string outboxId, InFlight delivery)
    {
        try
        {
            producer.Produce(events.Topic, EventProducer.ToMessage(reservation), report => Delivered(sku, reservation.OrderNo, outboxId, delivery, report));
        }
        catch (ProduceException<string, byte[]> ex)
        {
            // Refused before it left this process (queue full, a fatal producer): the entry stays for the relay or a retry.
            LogNotProduced(logger, reservation.OrderNo, ex.Error.Reason);
            if (ex.Error.IsFatal)
            {
                events.Failed();
            }
            Complete(reservation.OrderNo, delivery, durable: false);
        }
        catch (KafkaException ex)
        {
            LogNotProduced(logger, reservation.OrderNo, ex.Error.Reason);
            Complete(reservation.OrderNo, delivery, durable: false);
        }
    }

    // On librdkafka's delivery thread: completes the waiters (their continuations run elsewhere) and hands the
    // Redis clean-up to the thread pool.
    private void Delivered(SkuKeys sku, long orderNo, string outboxId, InFlight delivery, DeliveryReport<string, byte[]> report)
    {
        if (!EventProducer.IsDurable(report))
        {
            LogNotProduced(logger, orderNo, report.Error.IsError ? report.Error.Reason : "no offset");
            Complete(orderNo, delivery, durable: false);
            return;
        }
        delivery.Delivery.TrySetResult(true);
        _ = SettleAsync(sku, orderNo, outboxId, delivery);
    }

    private async Task SettleAsync(SkuKeys sku, long orderNo, string outboxId, InFlight delivery)
    {
        try
        {
            await scripts.SettleAsync(redis.GetDatabase(), sku, RelayOptions.ConsumerGroup, [new SettledEntry(outboxId, orderNo)]);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // The event is durable all the same; the relay's safety net sends the entry again (absorbed) and settles it.
            LogSettleFailed(logger, ex, orderNo);
        }
        finally
        {
            // Until now a replay joins this completed delivery rather than producing the event again.
            _inFlight.TryRemove(new KeyValuePair<long, InFlight>(orderNo, delivery));
        }
    }

    private void Complete(long orderNo, InFlight delivery, bool durable)
    {
        _inFlight.TryRemove(new KeyValuePair<long, InFlight>(orderNo, delivery));
        delivery.Delivery.TrySetResult(durable);
    }

    /// <summary>One order's produce in this process, and the producer generation it went through.</summary>
    private sealed record InFlight(TaskCompletionSource<bool> Delivery, int Generation);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Durable ack: the event of order {OrderNo} was not delivered ({Reason}); it stays in the outbox")]
    private static partial void LogNotProduced(ILogger logger, long orderNo, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Durable ack: order {OrderNo} is durable but its outbox entry was not settled; the relay will")]
    private static partial void LogSettleFailed(ILogger logger, Exception exception, long orderNo);
}
