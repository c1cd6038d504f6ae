using System.Text.Json.Serialization;

namespace FlashSale.Contracts;

/// <summary>How a recorded payment callback ended, as the API and the payments table spell it.</summary>
public static class PaymentOutcomes
{
    public const string Applied = "applied";
    public const string Failed = "failed";
    public const string AmountMismatch = "amount-mismatch";
    public const string RefundRequired = "refund-required";
}

/// <summary>
/// The payment provider's callback, signed over <c>X-Timestamp + "." + raw body</c>; <c>status</c> is
/// <c>succeeded</c> or <c>failed</c>. Every field is optional to the parser so a bad one is a 400, not a crash.
/// </summary>
public sealed record PaymentCallbackBody(
    string? OrderNo,
    string? ProviderTxnId,
    [property: JsonConverter(typeof(MoneyJsonConverter))] decimal Amount,
    string? Status);

public sealed record PaymentCallbackResponse(string OrderNo, string ProviderTxnId, string Outcome, string? OrderStatus);

/// <summary>A recorded payment callback as the admin list shows it.</summary>
public sealed record PaymentAdminView(string ProviderTxnId, string OrderNo, string Amount, string ProviderStatus, string Outcome, DateTime ReceivedAt);
