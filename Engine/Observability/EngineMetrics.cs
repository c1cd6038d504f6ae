using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using FlashSale.Engine.Orders;
using FlashSale.Engine.Reservations;

namespace FlashSale.Engine.Observability;

/// <summary>
/// The engine's own metrics and trace spans: one <see cref="Meter"/> and one <see cref="ActivitySource"/>,
/// both named <see cref="Name"/>. Instruments are created once; every recording method passes tags that
/// are static fields or caller strings, so recording allocates nothing of ours (the reservation path
/// calls it on every request). docs/metrics.md lists every instrument as Prometheus shows it.
/// </summary>
public sealed class EngineMetrics : IDisposable
{
    public const string Name = "FlashSale";

    private static readonly double[] ScriptBuckets = [0.1, 0.25, 0.5, 1, 2, 5, 10, 25, 50, 100, 250, 1_000, 5_000];

    private static readonly double[] LagBuckets = [5, 10, 25, 50, 100, 250, 500, 750, 1_000, 1_500, 2_500, 5_000, 10_000, 30_000, 60_000];

    private static readonly double[] WriteBuckets = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000];

    private static readonly long[] BatchSizeBuckets = [1, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000];

    private static readonly double[] RunBuckets = [10, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 300_000];

    private readonly TimeProvider _time;

    private readonly Counter<long> _reservations;
    private readonly Histogram<double> _scriptDuration;
    private readonly Counter<long> _relayDelivered;
    private readonly Histogram<double> _relayLag;
    private readonly Counter<long> _relayReclaimed;
    private readonly Histogram<long> _batchSize;
    private readonly Histogram<double> _batchDuration;
    private readonly Counter<long> _rows;
    private readonly Histogram<double> _visibilityLag;
    private readonly Counter<long> _paymentCallbacks;
    private readonly Counter<long> _cancellations;
    private readonly Counter<long> _unitsReleased;
    private readonly Counter<long> _drift;
    private readonly Counter<long> _repairs;
    private readonly Histogram<double> _reconcileDuration;

    // Written by the consumer's statistics callback, read by the gauge callback at scrape time.
    private readonly ConcurrentDictionary<int, long> _consumerLag = new();

    // -1 until the first reconciler run: the gauge reports nothing rather than a made-up zero.
    private long _lastRunDrift = -1;

    public EngineMetrics(IMeterFactory meterFactory, TimeProvider time)
    {
        _time = time;
        var meter = meterFactory.Create(Name);
        ActivitySource = new ActivitySource(Name);

        _reservations = meter.CreateCounter<long>("flashsale.reservations", "{reservation}",
            "Reservation requests decided by the engine, by outcome.");
        _scriptDuration = meter.CreateHistogram("flashsale.redis.script.duration", "ms",
            "Latency of one Lua script call to Redis, including a NOSCRIPT reload.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = ScriptBuckets });

        _relayDelivered = meter.CreateCounter<long>("flashsale.relay.delivered", "{event}",
            "Outbox events whose delivery Kafka confirmed with an offset.");
        _relayLag = meter.CreateHistogram("flashsale.relay.lag", "ms",
            "From a reservation's createdAt (Redis time) to Kafka confirming its event.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LagBuckets });
        _relayReclaimed = meter.CreateCounter<long>("flashsale.relay.reclaimed", "{entry}",
            "Outbox entries taken up again after they were left pending: claimed from an idle relay, or this relay's own at start.");

        _batchSize = meter.CreateHistogram("flashsale.persister.batch.size", "{event}",
            "Events per batch written to the order shards.",
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = BatchSizeBuckets });
        _batchDuration = meter.CreateHistogram("flashsale.persister.batch.duration", "ms",
            "Time to write one batch into every shard it touches, until the last shard committed.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = WriteBuckets });
        _rows = meter.CreateCounter<long>("flashsale.persister.rows", "{row}",
            "Order rows of written batches: inserted, or a duplicate absorbed by the unique order number.");
        _visibilityLag = meter.CreateHistogram("flashsale.persister.visibility.lag", "ms",
            "From a reservation's createdAt (Redis time) to its order row committed in MySQL.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LagBuckets });
        meter.CreateObservableGauge("flashsale.persister.consumer.lag", ObserveConsumerLag, "{message}",
            "Per partition this Persister holds: the high watermark minus the offset it stored once the batch was durable.");

        _paymentCallbacks = meter.CreateCounter<long>("flashsale.payments.callbacks", "{callback}",
            "Payment callbacks by outcome; a provider's retry of a recorded one is 'replayed'.");
        _cancellations = meter.CreateCounter<long>("flashsale.orders.cancelled", "{order}",
            "Orders moved PendingPayment -> Cancelled, by reason.");
        _unitsReleased = meter.CreateCounter<long>("flashsale.stock.released", "{unit}",
            "Units of cancelled orders given back to the sale in Redis.");

        _drift = meter.CreateCounter<long>("flashsale.reconciler.drift", "{unit}",
            "Units of drift between Redis and MySQL the reconciler found, by kind.");
        _repairs = meter.CreateCounter<long>("flashsale.reconciler.repairs", "{repair}",
            "Repairs the reconciler made, by kind.");
        _reconcileDuration = meter.CreateHistogram("flashsale.reconciler.run.duration", "ms",
            "Duration of one reconciler run.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = RunBuckets });
        meter.CreateObservableGauge("flashsale.reconciler.drift.current", ObserveLastDrift, "{unit}",
            "Units of drift the last reconciler run found.");
    }

    /// <summary>Spans of the engine's own work: reservations, relay batches, persister batches.</summary>
    public ActivitySource ActivitySource { get; }

    public void Reservation(ReservationStatus status) => _reservations.Add(1, status switch
    {
        ReservationStatus.Created => Outcomes.Created,
        ReservationStatus.Replayed => Outcomes.Replay,
        ReservationStatus.IdempotencyKeyReused => Outcomes.KeyConflict,
        ReservationStatus.NotOnSale => Outcomes.NotOnSale,
        ReservationStatus.NotStarted => Outcomes.NotStarted,
        ReservationStatus.Ended => Outcomes.Ended,
        ReservationStatus.PurchaseLimit => Outcomes.Limit,
        ReservationStatus.SoldOut => Outcomes.SoldOut,
        _ => Outcomes.Error,
    });

    /// <summary>A sold-out answer from the Ingress's memory, without a Redis round trip.</summary>
    public void ReservationSoldOutCached() => _reservations.Add(1, Outcomes.SoldOutCached);

    /// <summary>Redis failed or timed out: the buyer gets 503 and retries with the same key.</summary>
    public void ReservationFailed() => _reservations.Add(1, Outcomes.Error);

    public void ScriptCalled(in KeyValuePair<string, object?> scriptTag, TimeSpan elapsed)
        => _scriptDuration.Record(elapsed.TotalMilliseconds, scriptTag);

    public void RelayDelivered(long createdAtMs)
    {
        _relayDelivered.Add(1);
        _relayLag.Record(SinceMs(createdAtMs));
    }

    public void RelayReclaimed(int entries, bool ownAtStart)
    {
        if (entries > 0)
        {
            _relayReclaimed.Add(entries, ownAtStart ? Sources.Restart : Sources.Claimed);
        }
    }

    public void BatchWritten(int events, TimeSpan elapsed)
    {
        _batchSize.Record(events);
        _batchDuration.Record(elapsed.TotalMilliseconds);
    }

    public void RowsWritten(int inserted, int duplicates)
    {
        if (inserted > 0)
        {
            _rows.Add(inserted, RowResults.Inserted);
        }
        if (duplicates > 0)
        {
            _rows.Add(duplicates, RowResults.Duplicate);
        }
    }

    public void OrderVisible(long createdAtMs) => _visibilityLag.Record(SinceMs(createdAtMs));

    /// <summary>The consumer's latest view of one partition it holds.</summary>
    public void ConsumerLag(int partition, long messages) => _consumerLag[partition] = messages;

    /// <summary>The partition left this consumer (rebalance, shutdown): its lag is someone else's now.</summary>
    public void ConsumerPartitionGone(int partition) => _consumerLag.TryRemove(partition, out _);

    public void PaymentCallback(PaymentOutcome outcome, bool replayed) => _paymentCallbacks.Add(1, replayed
        ? PaymentOutcomes.Replayed
        : outcome switch
        {
            PaymentOutcome.Applied => PaymentOutcomes.Applied,
            PaymentOutcome.Failed => PaymentOutcomes.Failed,
            PaymentOutcome.AmountMismatch => PaymentOutcomes.AmountMismatch,
            PaymentOutcome.RefundRequired => PaymentOutcomes.RefundRequired,
            PaymentOutcome.OrderNotYetPersisted => PaymentOutcomes.NotYetPersisted,
            _ => PaymentOutcomes.UnknownOrder,
        });

    /// <summary><paramref name="reason"/> is one of the lifecycle's fixed reasons (buyer, payment-failed, payment-timeout).</summary>
    public void OrdersCancelled(string reason, int orders)
    {
        if (orders > 0)
        {
            _cancellations.Add(orders, new KeyValuePair<string, object?>("reason", reason));
        }
    }

    public void UnitsReleased(long units)
    {
        if (units > 0)
        {
            _unitsReleased.Add(units);
        }
    }

    /// <summary>The reconciler found <paramref name="units"/> units of drift of one <paramref name="kind"/>.</summary>
    public void DriftFound(string kind, long units) => _drift.Add(units, new KeyValuePair<string, object?>("kind", kind));

    /// <summary>The reconciler repaired <paramref name="count"/> cases of one <paramref name="kind"/>.</summary>
    public void Repaired(string kind, long count) => _repairs.Add(count, new KeyValuePair<string, object?>("kind", kind));

    /// <summary>A reconciler run finished after <paramref name="elapsed"/> and found <paramref name="driftUnits"/> units of drift in all.</summary>
    public void ReconcileRun(TimeSpan elapsed, long driftUnits)
    {
        _reconcileDuration.Record(elapsed.TotalMilliseconds);
        Volatile.Write(ref _lastRunDrift, driftUnits);
    }

    public void Dispose() => ActivitySource.Dispose();

    private double SinceMs(long epochMs) => Math.Max(0, _time.GetUtcNow().ToUnixTimeMilliseconds() - epochMs);

    private IEnumerable<Measurement<long>> ObserveConsumerLag()
    {
        foreach (var (partition, lag) in _consumerLag)
        {
            yield return new Measurement<long>(lag, new KeyValuePair<string, object?>("partition", partition));
        }
    }

    private IEnumerable<Measurement<long>> ObserveLastDrift()
    {
        var drift = Volatile.Read(ref _lastRunDrift);
        if (drift >= 0)
        {
            yield return new Measurement<long>(drift);
        }
    }

    private static class Outcomes
    {
        public static readonly KeyValuePair<string, object?> Created = new("outcome", "created");
        public static readonly KeyValuePair<string, object?> Replay = new("outcome", "replay");
        public static readonly KeyValuePair<string, object?> SoldOut = new("outcome", "sold-out");
        public static readonly KeyValuePair<string, object?> SoldOutCached = new("outcome", "sold-out-cached");
        public static readonly KeyValuePair<string, object?> Limit = new("outcome", "limit");
        public static readonly KeyValuePair<string, object?> NotStarted = new("outcome", "not-started");
        public static readonly KeyValuePair<string, object?> Ended = new("outcome", "ended");
        public static readonly KeyValuePair<string, object?> NotOnSale = new("outcome", "not-on-sale");
        public static readonly KeyValuePair<string, object?> KeyConflict = new("outcome", "key-conflict");
        public static readonly KeyValuePair<string, object?> Error = new("outcome", "error");
    }

    private static class Sources
    {
        public static readonly KeyValuePair<string, object?> Claimed = new("source", "claimed");
        public static readonly KeyValuePair<string, object?> Restart = new("source", "restart");
    }

    private static class RowResults
    {
        public static readonly KeyValuePair<string, object?> Inserted = new("result", "inserted");
        public static readonly KeyValuePair<string, object?> Duplicate = new("result", "duplicate");
    }

    private static class PaymentOutcomes
    {
        public static readonly KeyValuePair<string, object?> Applied = new("outcome", "applied");
        public static readonly KeyValuePair<string, object?> Failed = new("outcome", "failed");
        public static readonly KeyValuePair<string, object?> AmountMismatch = new("outcome", "amount-mismatch");
        public static readonly KeyValuePair<string, object?> RefundRequired = new("outcome", "refund-required");
        public static readonly KeyValuePair<string, object?> NotYetPersisted = new("outcome", "order-not-yet-persisted");
        public static readonly KeyValuePair<string, object?> UnknownOrder = new("outcome", "unknown-order");
        public static readonly KeyValuePair<string, object?> Replayed = new("outcome", "replayed");
    }
}
