using System.ComponentModel.DataAnnotations;

namespace FlashSale.Engine.Relay;

public sealed class RelayOptions
{
    public const string Section = "Relay";

    /// <summary>The outbox streams' consumer group; each relay is one consumer of it.</summary>
    public const string ConsumerGroup = "relay";

    /// <summary>Off only for an Ingress that must not talk to Kafka (some tests); every deployment relays.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Pause when no outbox had new entries; the floor of the relay's added latency.</summary>
    [Range(1, 1_000)]
    public int PollIntervalMs { get; set; } = 5;

    /// <summary>The longest pause between rounds while every outbox stays empty.</summary>
    [Range(1, 10_000)]
    public int MaxIdlePollMs { get; set; } = 50;

    /// <summary>How often SKUs of ended campaigns with empty outboxes are dropped from the live set.</summary>
    [Range(1_000, 3_600_000)]
    public int PruneIntervalMs { get; set; } = 30_000;

    /// <summary>Entries read from one outbox per round.</summary>
    [Range(1, 10_000)]
    public int ReadCount { get; set; } = 500;

    /// <summary>How long an entry may stay pending with a consumer before another relay claims it.</summary>
    [Range(100, 3_600_000)]
    public int ClaimMinIdleMs { get; set; } = 30_000;

    [Range(100, 600_000)]
    public int ClaimIntervalMs { get; set; } = 5_000;

    /// <summary>How often the list of live SKUs is re-read.</summary>
    [Range(10, 600_000)]
    public int RefreshIntervalMs { get; set; } = 1_000;

    /// <summary>
    /// With durable acknowledgement on, an outbox entry younger than this belongs to the Ingress that decided it
    /// (which produces it itself): the relay sends only older entries that are still there, i.e. whose Ingress died
    /// or whose produce failed. The shared producer gives up on a record after half of it, so the two never send a
    /// fresh entry at the same time. Also the longest a crashed Ingress's reservations wait for the relay.
    /// </summary>
    [Range(2_000, 600_000)]
    public int SafetyNetAgeMs { get; set; } = 10_000;

    /// <summary>
    /// The pause between rounds of the safety net (durable acknowledgement on): how late past its age an entry
    /// nobody produced is sent, at most; and the Redis reads the relay saves while the Ingress sends everything itself.
    /// </summary>
    [Range(5, 10_000)]
    public int SafetyNetPollMs { get; set; } = 250;

    /// <summary>Entries read from every outbox and not yet confirmed by Kafka, at most.</summary>
    [Range(1, 1_000_000)]
    public int MaxInFlight { get; set; } = 20_000;
}
