using FlashSale.Contracts;

namespace FlashSale.LoadTests.EngineApi;

/// <summary>How a reservation attempt ended, from the status code and the problem type's last segment.</summary>
public enum Outcome
{
    Created,
    Replayed,
    SoldOut,
    PurchaseLimit,
    NotStarted,
    Ended,
    NotFound,

    /// <summary>429 rate-limited: a limit refused the request; nothing was decided.</summary>
    RateLimited,

    /// <summary>503 busy: the pipeline behind Redis is behind (backpressure); nothing was decided.</summary>
    Busy,

    /// <summary>403 admission-required: a waiting room's SKU and no valid admission token (nothing decided).</summary>
    AdmissionRequired,

    /// <summary>409 coupon-unavailable: the coupon asked for cannot be used (none left, the buyer's limit, ...); nothing held.</summary>
    CouponUnavailable,
    OtherClientError,
    ServerError,
    Timeout,
    TransportError,
    Unexpected,
}

public static class Outcomes
{
    public static IReadOnlyList<Outcome> All { get; } = Enum.GetValues<Outcome>();

    public static int Count { get; } = All.Count;

    public static string Label(this Outcome outcome) => outcome switch
    {
        Outcome.Created => "created",
        Outcome.Replayed => "replayed",
        Outcome.SoldOut => "sold-out",
        Outcome.PurchaseLimit => "purchase-limit",
        Outcome.NotStarted => "not-started",
        Outcome.Ended => "ended",
        Outcome.NotFound => "not-found",
        Outcome.RateLimited => "rate-limited",
        Outcome.Busy => "busy",
        Outcome.AdmissionRequired => "admission-required",
        Outcome.CouponUnavailable => "coupon-unavailable",
        Outcome.OtherClientError => "other-4xx",
        Outcome.ServerError => "5xx",
        Outcome.Timeout => "timeout",
        Outcome.TransportError => "transport-error",
        Outcome.Unexpected => "unexpected",
        _ => outcome.ToString(),
    };

    /// <summary>The engine made (or may have made) a reservation we did not see: only a replay of the same key can tell.</summary>
    public static bool IsUnknown(this Outcome outcome) => outcome is Outcome.ServerError or Outcome.Timeout or Outcome.TransportError;

    /// <summary>The engine answered as designed: a reservation, or a refusal the sale expects (admission control's included).</summary>
    public static bool IsExpected(this Outcome outcome)
        => outcome is Outcome.Created or Outcome.Replayed or Outcome.SoldOut or Outcome.PurchaseLimit or Outcome.RateLimited or Outcome.Busy
            or Outcome.CouponUnavailable;
}

/// <summary>An attempt's outcome; <see cref="OrderNo"/> for 200/201, <see cref="Detail"/> for what the outcome does not say.</summary>
public readonly record struct ReserveResult(Outcome Outcome, string? OrderNo = null, string? Detail = null);

public enum OrderLookupStatus
{
    Found,
    NotFound,
    Failed,
}

/// <summary>What one <c>GET /api/v1/orders/{orderNo}</c> found; <see cref="Detail"/> says why when nothing was found.</summary>
public readonly record struct OrderLookup(OrderLookupStatus Status, OrderResponse? Order, string? Detail);
