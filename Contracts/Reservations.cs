using System.Text.Json.Serialization;

namespace FlashSale.Contracts;

/// <summary>
/// The buyer's body for <see cref="ApiRoutes.Reservations"/>: <c>{"quantity":1}</c>, or with one of the campaign's coupons
/// <c>{"quantity":1,"couponId":"c20"}</c> (the order's amount is then price × quantity − the coupon's discount).
/// </summary>
public sealed record ReservationBody(int Quantity, string? CouponId = null);

/// <summary>A reservation: 201 when made, 200 with <see cref="ApiHeaders.IdempotentReplayed"/> when replayed.</summary>
/// <remarks><c>couponId</c> and <c>discount</c> only for an order made with a coupon; <c>amount</c> is then net of the discount.</remarks>
public sealed record ReservationResponse(
    string OrderNo,
    string CampaignId,
    long SkuId,
    int Quantity,
    string Amount,
    string Status,
    DateTime PaymentDeadline,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? CouponId = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Discount = null);
