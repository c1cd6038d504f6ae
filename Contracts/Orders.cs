using System.Text.Json.Serialization;

namespace FlashSale.Contracts;

/// <summary>The states of an order, as the API and the order tables spell them.</summary>
public static class OrderStatus
{
    public const string PendingPayment = "PendingPayment";
    public const string Paid = "Paid";
    public const string Cancelled = "Cancelled";
}

/// <summary>
/// An order as its buyer sees it. <c>Persisted</c> is false while the order is only in the SKU's Redis
/// ledger, on its way through the outbox, Kafka and the persister.
/// </summary>
public sealed record OrderResponse(
    string OrderNo,
    string CampaignId,
    long SkuId,
    int Quantity,
    string Amount,
    string Status,
    DateTime PaymentDeadline,
    DateTime CreatedAt,
    bool Persisted,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? CouponId = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Discount = null);

/// <summary>A page of the buyer's orders, newest first.</summary>
public sealed record OrderListResponse(IReadOnlyList<OrderResponse> Items, string? NextCursor);
