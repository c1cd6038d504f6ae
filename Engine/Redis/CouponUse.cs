using System.Globalization;

namespace FlashSale.Engine.Redis;

/// <summary>
/// The coupon an order was made with: its pool, the discount it took off the order (minor units) and the pool's decision
/// sequence of its lock (carried in the order's event, so the Persister keeps the pool's high-water mark). The C# side of
/// <c>coupon_decode</c> in prelude.lua: <c>couponId|discountMinor|poolSeq</c>.
/// </summary>
public sealed record CouponUse(string CouponId, long DiscountMinor, long PoolSequence)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{CouponId}|{DiscountMinor}|{PoolSequence}");

    /// <summary>The coupon use of a script's reply or the coupons hash; null for none ('' or nothing).</summary>
    public static CouponUse? Parse(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }
        var parts = value.Split('|');
        return parts.Length == 3 && parts[0].Length > 0
            && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var discount)
            && long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var sequence)
            ? new CouponUse(parts[0], discount, sequence)
            : throw new FormatException($"Malformed coupon use '{value}'.");
    }
}
