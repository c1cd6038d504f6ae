using System.ComponentModel.DataAnnotations;

namespace FlashSale.Engine.Backpressure;

/// <summary>
/// When the durable path behind Redis falls behind, new reservations are answered 503 <c>busy</c> instead of piling up
/// (section <c>Backpressure</c>). Each trigger has a threshold (0 switches it off); a trigger that fired clears once its
/// value is back at or below <see cref="ResumeRatio"/> × its threshold, so the engine does not flap at the boundary.
/// </summary>
public sealed class BackpressureOptions
{
    public const string Section = "Backpressure";

    public bool Enabled { get; set; } = true;

    /// <summary>How often the triggers are measured: the delivery latency and the outbox backlog, and the consumer lag.</summary>
    [Range(100, 60_000)]
    public int CheckIntervalMs { get; set; } = 1_000;

    /// <summary>
    /// Kafka delivery latency: the mean time from this Ingress producing a record to Kafka confirming it (or the producer
    /// giving up on it) over the last interval, or the age of the oldest record still unconfirmed if that is longer (a
    /// Kafka that answers nothing). While busy nothing new is produced, so once the records in flight are done the
    /// trigger clears and the next requests probe Kafka again: through an outage, about one probe per message timeout.
    /// Half of <c>Reservations:DurableAckTimeoutMs</c> by default: above it, 201s are turning into 503 not-yet-durable.
    /// </summary>
    [Range(0, 600_000)]
    public int DeliveryLatencyMs { get; set; } = 1_000;

    /// <summary>
    /// Entries in the Redis outbox streams of every live SKU together (records not yet confirmed by Kafka). With durable
    /// acknowledgement a healthy engine holds tens; ten thousand is seconds of a full-speed sale left unsent.
    /// </summary>
    [Range(0, 100_000_000)]
    public long OutboxBacklog { get; set; } = 10_000;

    /// <summary>
    /// The Persisters' consumer lag on the reservations topic, in bytes, on the partition furthest behind: records
    /// between the group's committed offset and the end offset, times the mean size of the records this Ingress produced.
    /// 1 MiB is a fifth of the 5 MB per partition librdkafka's mock keeps, so a local run never loses a record to it.
    /// </summary>
    [Range(0, long.MaxValue)]
    public long ConsumerLagBytes { get; set; } = 1L << 20;

    /// <summary>A trigger that fired clears at or below this share of its threshold (hysteresis).</summary>
    [Range(0.0, 1.0)]
    public double ResumeRatio { get; set; } = 0.5;

    /// <summary>The Retry-After of a 503 busy.</summary>
    [Range(1, 3_600)]
    public int RetryAfterSeconds { get; set; } = 2;
}
