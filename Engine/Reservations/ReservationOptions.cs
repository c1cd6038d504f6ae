using System.ComponentModel.DataAnnotations;

namespace FlashSale.Engine.Reservations;

/// <summary>When a reservation is acknowledged to the buyer (201, or a replay's 200).</summary>
public enum AcknowledgeMode
{
    /// <summary>
    /// Once its event is durably in Kafka (acks=all): the 201 survives the loss of Redis. Costs a Kafka round trip
    /// per reservation, and a Kafka outage turns reservations into 503s (they stand, and a retry returns them).
    /// </summary>
    Durable,

    /// <summary>
    /// As soon as Redis decided: the fastest answer, and the sale goes on through a Kafka outage, but a Redis
    /// that loses acknowledged writes before the relay moved them loses 201s with them.
    /// </summary>
    Decided,
}

public sealed class ReservationOptions
{
    public const string Section = "Reservations";

    public AcknowledgeMode Acknowledge { get; set; } = AcknowledgeMode.Durable;

    /// <summary>
    /// How long a request waits for Kafka to confirm its event before it answers 503 (the reservation stands and a
    /// retry with the same Idempotency-Key returns it once durable). Below the relay's safety-net age by design.
    /// </summary>
    [Range(50, 60_000)]
    public int DurableAckTimeoutMs { get; set; } = 2_000;

    /// <summary>
    /// The most requests of one SKU decided in one script call and carried in one Kafka record (group commit).
    /// 1 decides every request on its own, with no queue: the single-call engine the benches compare against.
    /// </summary>
    [Range(1, 1_000)]
    public int MaxBatch { get; set; } = 64;

    /// <summary>
    /// Script calls of one SKU in flight at once while batching. The next batch gathers while these run; more than
    /// one overlaps a call's network round trip with the next call's work in Redis. A call beyond the first starts only
    /// once a quarter of <see cref="MaxBatch"/> is waiting (fewer wait for the call in flight).
    /// </summary>
    [Range(1, 64)]
    public int MaxInFlightPerSku { get; set; } = 2;
}
