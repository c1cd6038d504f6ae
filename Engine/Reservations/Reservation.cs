using FlashSale.Engine.Campaigns;
using FlashSale.Engine.Redis;

namespace FlashSale.Engine.Reservations;

/// <param name="CouponId">One of the campaign's coupon pools to take a coupon from (null: none).</param>
public readonly record struct ReservationRequest(string CampaignId, long SkuId, long UserId, string IdempotencyKey, int Quantity, string? CouponId = null);

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

    /// <summary>The SKU is fenced: Redis forgot decisions and decides nothing until it is rebuilt; retry later.</summary>
    Recovering,

    /// <summary>
    /// Decided (the reservation stands) but Kafka did not confirm its event in time: not acknowledged yet; a retry with
    /// the same Idempotency-Key returns it once it is durable.
    /// </summary>
    NotYetDurable,

    /// <summary>The durable path behind Redis is behind (backpressure): nothing was decided; retry after Retry-After.</summary>
    Busy,

    /// <summary>The coupon asked for cannot be used (unknown, none left, the buyer's limit, the minimum spend): nothing held.</summary>
    CouponUnavailable,
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
    DateTimeOffset PaymentDeadline,
    CouponUse? Coupon = null)
{
    public static Reservation From(long orderNo, string campaignId, long skuId, LedgerRecord record, CouponUse? coupon = null) => new(
        orderNo,
        campaignId,
        skuId,
        record.UserId,
        record.Quantity,
        Money.FromMinor(record.AmountMinor),
        DateTimeOffset.FromUnixTimeMilliseconds(record.CreatedMs),
        DateTimeOffset.FromUnixTimeMilliseconds(record.DeadlineMs),
        coupon);
}

/// <param name="Sequence">The SKU's decision sequence number of a created reservation (carried in its event).</param>
/// <param name="OutboxId">The reservation's outbox entry, while its event is not yet confirmed durable in Kafka.</param>
/// <param name="PriorOrderNo">For <see cref="ReservationStatus.IdempotencyKeyReused"/>: the order the key owns.</param>
public readonly record struct ReservationResult(
    ReservationStatus Status, Reservation? Reservation = null, long Sequence = 0, string? OutboxId = null, long? PriorOrderNo = null)
{
    public static readonly ReservationResult SoldOut = new(ReservationStatus.SoldOut);
}
