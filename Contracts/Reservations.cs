namespace FlashSale.Contracts;

/// <summary>The buyer's body for <see cref="ApiRoutes.Reservations"/>.</summary>
public sealed record ReservationBody(int Quantity);

/// <summary>A reservation: 201 when made, 200 with <see cref="ApiHeaders.IdempotentReplayed"/> when replayed.</summary>
public sealed record ReservationResponse(
    string OrderNo,
    string CampaignId,
    long SkuId,
    int Quantity,
    string Amount,
    string Status,
    DateTime PaymentDeadline);
