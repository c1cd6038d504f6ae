namespace FlashSale.Engine.Reservations;

public readonly record struct ReservationRequest(string CampaignId, long SkuId, long UserId, string IdempotencyKey, int Quantity);

public enum ReservationStatus
{
    Created,
    Replayed,
    IdempotencyKeyReused,
    NotOnSale,
    NotStarted,
    Ended,
    PurchaseLimit,
    SoldOut,
}

/// <summary>A unit (or several) of a SKU held for a buyer until they pay or the payment window closes.</summary>
public sealed record Reservation(
    long OrderNo,
    string CampaignId,
    long SkuId,
    long UserId,
    int Quantity,
    decimal Amount,
    DateTimeOffset CreatedAt,
    DateTimeOffset PaymentDeadline);

public readonly record struct ReservationResult(ReservationStatus Status, Reservation? Reservation = null)
{
    public static readonly ReservationResult SoldOut = new(ReservationStatus.SoldOut);
}
