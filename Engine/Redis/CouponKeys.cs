using System.Globalization;
using StackExchange.Redis;

namespace FlashSale.Engine.Redis;

/// <summary>
/// The Redis keys of one campaign's coupon pool. A pool is campaign-wide, so it cannot share a SKU's hash tag: its keys
/// carry a tag of their own, <c>{campaignId:coupon:couponId}</c> (two colons, where a SKU's tag has one, so no pool's tag is
/// ever a SKU's), and on a Redis Cluster the pool lives on whichever master serves that slot. No script touches a pool and
/// a SKU together: a couponed reservation is two scripts, Try-coupon here and Try-stock on the SKU (TCC, see
/// <c>Engine/Coupons</c>), keyed by the order number.
/// <para>
/// The meta hash has the layout of a SKU's (<see cref="MetaFields"/>): <c>total</c>, <c>available</c>, <c>reserved</c>
/// (coupons locked: held by an unpaid order or a reservation under way), <c>sold</c> (coupons redeemed: paid), <c>counted</c>
/// (always set: a pool is counted from its first load), <c>seq</c>, <c>epoch</c> and <c>fenced</c>, plus its own
/// <see cref="CouponMetaFields"/>; so the SKU's fence.lua, recover.lua, restock.lua and sku-counters.lua serve pools unchanged.
/// </para>
/// </summary>
public readonly record struct CouponKeys(string CampaignId, string CouponId)
{
    public string Tag => $"{{{CampaignId}:coupon:{CouponId}}}";

    /// <summary>Hash: <see cref="MetaFields"/> and <see cref="CouponMetaFields"/>.</summary>
    public RedisKey Meta => $"fs:{Tag}:meta";

    /// <summary>Hash: userId → coupons of this pool the buyer holds (locked or redeemed), for the per-user limit.</summary>
    public RedisKey Users => $"fs:{Tag}:users";

    /// <summary>
    /// Hash: order number → <see cref="CouponLock"/> (<c>userId|skuId|discountMinor|createdMs|state</c>): the pool's ledger,
    /// one entry per order number a Try or a Cancel was ever made for.
    /// </summary>
    public RedisKey Locks => $"fs:{Tag}:locks";

    /// <summary>
    /// Hash: <c>userId:skuId:idempotencyKey</c> → the order number its Try locked a coupon for, so that a retry with the same
    /// key reuses that order number (and that coupon) instead of trying again under a new one.
    /// </summary>
    public RedisKey Idempotency => $"fs:{Tag}:idem";

    /// <summary>
    /// Sorted set: order numbers whose coupon is locked by a Try while their order is not yet known to exist (state T),
    /// scored by the Try's time (Redis ms): what the orphan sweep looks at, oldest first.
    /// </summary>
    public RedisKey Tried => $"fs:{Tag}:tried";

    /// <summary><c>campaignId:couponId</c>: the pool in <see cref="CouponKeyspace.LivePools"/>.</summary>
    public string Member => $"{CampaignId}:{CouponId}";

    public static bool TryParseMember(string member, out CouponKeys keys)
    {
        keys = default;
        var colon = member.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || colon == member.Length - 1)
        {
            return false;
        }
        keys = new CouponKeys(member[..colon], member[(colon + 1)..]);
        return true;
    }

    /// <summary>Every key of the pool, for tests and for tearing a campaign down.</summary>
    public RedisKey[] All() => [Meta, Users, Locks, Idempotency, Tried];
}

/// <summary>A pool's own fields in its meta hash, beside the SKU layout's (<see cref="MetaFields"/>).</summary>
public static class CouponMetaFields
{
    public const string Discount = "discount";
    public const string MinSpend = "minspend";
    public const string Limit = "limit";
    public const string Starts = "starts";
    public const string Ends = "ends";
}

/// <summary>The keys outside any pool's hash tag.</summary>
public static class CouponKeyspace
{
    /// <summary>Set of <c>campaignId:couponId</c> of the pools warmed up: what fencing, recovery and the orphan sweep walk.</summary>
    public static readonly RedisKey LivePools = "fs:live-coupons";

    public static async Task<List<CouponKeys>> LivePoolsAsync(IDatabaseAsync db)
    {
        var pools = new List<CouponKeys>();
        foreach (var member in await db.SetMembersAsync(LivePools))
        {
            if (CouponKeys.TryParseMember(member.ToString(), out var pool))
            {
                pools.Add(pool);
            }
        }
        return pools;
    }

    /// <summary>
    /// Hash, one per SKU (its tag): order number → <c>couponId|discountMinor</c> for an order made with a coupon, or
    /// <see cref="Barred"/> for an order number whose coupon was cancelled before any stock was taken for it (a Try-stock
    /// that arrives afterwards is refused: TCC's protection against a hanging Try). Written by reserve-many.lua and
    /// coupon-bar.lua, read by reservation replays.
    /// </summary>
    public static RedisKey CouponsOf(SkuKeys sku) => $"fs:{sku.Tag}:coupons";

    /// <summary>The SKU-side mark of an order number whose coupon Try was cancelled: no stock may be taken for it any more.</summary>
    public const string Barred = "~";

    public static string Format(long value) => value.ToString(CultureInfo.InvariantCulture);
}
