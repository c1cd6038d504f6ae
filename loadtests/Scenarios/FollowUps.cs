namespace FlashSale.LoadTests.Scenarios;

/// <summary>The kinds of follow-up a scenario can send about an order it saw created; the report's rows.</summary>
public enum FollowUpKind
{
    /// <summary>The payment provider's signed callback for an order.</summary>
    Pay,

    /// <summary>The same callback again, same providerTxnId: the provider retrying because our answer was lost.</summary>
    PayDuplicate,

    /// <summary>The buyer gives the order up: <c>POST /api/v1/orders/{orderNo}/cancel</c>.</summary>
    Cancel,
}

/// <summary>
/// A request about an order that already exists, sent by the load model at its due time next to the
/// reservations. <see cref="Attempt"/> counts resends of the same action (after a 503 or an unknown outcome).
/// </summary>
public abstract record FollowUpAction(string CampaignId, long SkuId, long BuyerId, string OrderNo, int Attempt)
{
    public abstract FollowUpKind Kind { get; }
}

/// <summary>A successful payment callback for <paramref name="Amount"/>, idempotent by <paramref name="ProviderTxnId"/>.</summary>
public sealed record PayOrder(
    string CampaignId, long SkuId, long BuyerId, string OrderNo, string Amount, string ProviderTxnId, bool Duplicate, int Attempt)
    : FollowUpAction(CampaignId, SkuId, BuyerId, OrderNo, Attempt)
{
    public override FollowUpKind Kind => Duplicate ? FollowUpKind.PayDuplicate : FollowUpKind.Pay;
}

/// <summary>The buyer's cancel of their own order.</summary>
public sealed record CancelOrder(string CampaignId, long SkuId, long BuyerId, string OrderNo, int Attempt)
    : FollowUpAction(CampaignId, SkuId, BuyerId, OrderNo, Attempt)
{
    public override FollowUpKind Kind => FollowUpKind.Cancel;
}

/// <summary>How a follow-up ended, from the status code and, for problem+json, the type's last segment.</summary>
public enum FollowUpOutcome
{
    /// <summary>Payment: 200, outcome <c>applied</c> (the order is paid; a replay of an applied callback says so again).</summary>
    Applied,

    /// <summary>Payment: 200, outcome <c>refund-required</c>: money for an order that is no longer pending.</summary>
    RefundRequired,

    /// <summary>Payment: 200, outcome <c>failed</c>.</summary>
    PaymentFailed,

    /// <summary>Payment: 409 <c>amount-mismatch</c>.</summary>
    AmountMismatch,

    /// <summary>Cancel: 200, the order is cancelled (now or before).</summary>
    Cancelled,

    /// <summary>Cancel: 409 <c>order-paid</c>.</summary>
    OrderPaid,

    /// <summary>503 <c>order-not-yet-persisted</c>: the order is still on its way to MySQL; send again after Retry-After.</summary>
    NotYetPersisted,

    NotFound,
    OtherClientError,
    ServerError,
    Timeout,
    TransportError,
    Unexpected,
}

/// <summary>A follow-up's outcome; <see cref="OrderStatus"/> as the answer gave it, <see cref="RetryAfter"/> from its header.</summary>
public readonly record struct FollowUpResult(FollowUpOutcome Outcome, string? OrderStatus = null, TimeSpan? RetryAfter = null, string? Detail = null);

public static class FollowUpOutcomes
{
    public static IReadOnlyList<FollowUpOutcome> All { get; } = Enum.GetValues<FollowUpOutcome>();

    public static IReadOnlyList<FollowUpKind> Kinds { get; } = Enum.GetValues<FollowUpKind>();

    public static string Label(this FollowUpOutcome outcome) => outcome switch
    {
        FollowUpOutcome.Applied => "applied",
        FollowUpOutcome.RefundRequired => "refund-required",
        FollowUpOutcome.PaymentFailed => "failed",
        FollowUpOutcome.AmountMismatch => "amount-mismatch",
        FollowUpOutcome.Cancelled => "cancelled",
        FollowUpOutcome.OrderPaid => "order-paid",
        FollowUpOutcome.NotYetPersisted => "not-yet-persisted",
        FollowUpOutcome.NotFound => "not-found",
        FollowUpOutcome.OtherClientError => "other-4xx",
        FollowUpOutcome.ServerError => "5xx",
        FollowUpOutcome.Timeout => "timeout",
        FollowUpOutcome.TransportError => "transport-error",
        FollowUpOutcome.Unexpected => "unexpected",
        _ => outcome.ToString(),
    };

    public static string Label(this FollowUpKind kind) => kind switch
    {
        FollowUpKind.Pay => "pay",
        FollowUpKind.PayDuplicate => "pay (duplicate)",
        FollowUpKind.Cancel => "cancel",
        _ => kind.ToString(),
    };

    /// <summary>The engine may or may not have acted: the same (idempotent) request again tells.</summary>
    public static bool IsUnknown(this FollowUpOutcome outcome)
        => outcome is FollowUpOutcome.ServerError or FollowUpOutcome.Timeout or FollowUpOutcome.TransportError;
}
