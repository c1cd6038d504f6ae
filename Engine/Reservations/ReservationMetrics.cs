using System.Diagnostics.Metrics;
using FlashSale.Engine.Telemetry;

namespace FlashSale.Engine.Reservations;

/// <summary>Reservation requests by outcome. Tags are static fields, so recording allocates nothing (every request records).</summary>
public sealed class ReservationMetrics(IMeterFactory meterFactory)
{
    private static readonly KeyValuePair<string, object?> Created = EngineTelemetry.Tag("outcome", "created");
    private static readonly KeyValuePair<string, object?> Replay = EngineTelemetry.Tag("outcome", "replay");
    private static readonly KeyValuePair<string, object?> SoldOut = EngineTelemetry.Tag("outcome", "sold-out");
    private static readonly KeyValuePair<string, object?> SoldOutCached = EngineTelemetry.Tag("outcome", "sold-out-cached");
    private static readonly KeyValuePair<string, object?> Limit = EngineTelemetry.Tag("outcome", "limit");
    private static readonly KeyValuePair<string, object?> NotStarted = EngineTelemetry.Tag("outcome", "not-started");
    private static readonly KeyValuePair<string, object?> Ended = EngineTelemetry.Tag("outcome", "ended");
    private static readonly KeyValuePair<string, object?> NotOnSale = EngineTelemetry.Tag("outcome", "not-on-sale");
    private static readonly KeyValuePair<string, object?> KeyConflict = EngineTelemetry.Tag("outcome", "key-conflict");
    private static readonly KeyValuePair<string, object?> Recovering = EngineTelemetry.Tag("outcome", "recovering");
    private static readonly KeyValuePair<string, object?> NotDurable = EngineTelemetry.Tag("outcome", "not-durable");
    private static readonly KeyValuePair<string, object?> Busy = EngineTelemetry.Tag("outcome", "busy");
    private static readonly KeyValuePair<string, object?> CouponUnavailable = EngineTelemetry.Tag("outcome", "coupon-unavailable");
    private static readonly KeyValuePair<string, object?> Error = EngineTelemetry.Tag("outcome", "error");

    private readonly Counter<long> _reservations = meterFactory.Meter().CreateCounter<long>("flashsale.reservations", "{reservation}",
        "Reservation requests decided by the engine, by outcome.");

    private readonly Histogram<int> _batchSize = meterFactory.Meter().CreateHistogram<int>("flashsale.reservation.batch.size", "{request}",
        "Requests of one SKU decided together in one script call (group commit).",
        advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000] });

    /// <summary>A lane's batch was decided in one script call.</summary>
    public void Batch(int requests) => _batchSize.Record(requests);

    public void Decided(ReservationStatus status) => _reservations.Add(1, status switch
    {
        ReservationStatus.Created => Created,
        ReservationStatus.Replayed => Replay,
        ReservationStatus.IdempotencyKeyReused => KeyConflict,
        ReservationStatus.NotOnSale => NotOnSale,
        ReservationStatus.NotStarted => NotStarted,
        ReservationStatus.Ended => Ended,
        ReservationStatus.PurchaseLimit => Limit,
        ReservationStatus.SoldOut => SoldOut,
        ReservationStatus.Recovering => Recovering,
        ReservationStatus.NotYetDurable => NotDurable,
        ReservationStatus.Busy => Busy,
        ReservationStatus.CouponUnavailable => CouponUnavailable,
        _ => Error,
    });

    /// <summary>A sold-out answer from the Ingress's memory, without a Redis round trip.</summary>
    public void SoldOutFromMemory() => _reservations.Add(1, SoldOutCached);

    /// <summary>Redis failed or timed out: the buyer gets 503 and retries with the same key.</summary>
    public void Failed() => _reservations.Add(1, Error);
}
