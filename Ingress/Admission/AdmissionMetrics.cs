using System.Diagnostics.Metrics;
using FlashSale.Engine.Live;
using FlashSale.Engine.Telemetry;

namespace FlashSale.Ingress.Admission;

/// <summary>What the rate limits refused, by limit, and the replays they let through.</summary>
public sealed class AdmissionMetrics(IMeterFactory meterFactory)
{
    private static readonly KeyValuePair<string, object?> Buyer = EngineTelemetry.Tag("limit", ReservationLimiter.Buyer);
    private static readonly KeyValuePair<string, object?> Address = EngineTelemetry.Tag("limit", ReservationLimiter.Address);
    private static readonly KeyValuePair<string, object?> CampaignConcurrency = EngineTelemetry.Tag("limit", ReservationLimiter.CampaignConcurrency);
    private static readonly KeyValuePair<string, object?> Concurrency = EngineTelemetry.Tag("limit", ReservationLimiter.Concurrency);

    private readonly Counter<long> _refused = meterFactory.Meter().CreateCounter<long>(LiveCounters.RateLimitRefusedInstrument, "{request}",
        "Reservation requests refused 429 rate-limited, by the limit that refused them (buyer, address, campaign-concurrency, concurrency).");

    private readonly Counter<long> _replays = meterFactory.Meter().CreateCounter<long>("flashsale.rate_limit.replays", "{request}",
        "Requests over a limit let through because their Idempotency-Key already owns an order of the buyer (a replay is never rate-limited).");

    public void Refused(string limit) => _refused.Add(1, limit switch
    {
        ReservationLimiter.Buyer => Buyer,
        ReservationLimiter.Address => Address,
        ReservationLimiter.CampaignConcurrency => CampaignConcurrency,
        _ => Concurrency,
    });

    public void ReplayAdmitted() => _replays.Add(1);
}
