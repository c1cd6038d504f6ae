using System.Text.Json.Serialization;

namespace FlashSale.Contracts;

/// <summary>
/// One coupon pool of a campaign's definition: <paramref name="Quantity"/> coupons worth <paramref name="Discount"/> off an
/// order of at least <paramref name="MinSpend"/> (price × quantity), at most <paramref name="PerUserLimit"/> per buyer.
/// Amounts may be JSON strings or numbers, like prices. A pool is campaign-wide: any SKU of the campaign may use it.
/// </summary>
public sealed record CouponBody(
    string CouponId,
    [property: JsonConverter(typeof(MoneyJsonConverter))] decimal Discount,
    [property: JsonConverter(typeof(MoneyJsonConverter))] decimal MinSpend,
    int Quantity,
    int PerUserLimit);

[JsonConverter(typeof(JsonStringEnumConverter<CouponState>))]
public enum CouponState
{
    /// <summary>Defined in the catalog, not loaded into Redis: nobody can use it yet.</summary>
    NotWarmed,

    /// <summary>Loaded, and coupons are left.</summary>
    Available,

    /// <summary>Loaded, none left (until a cancelled order gives one back).</summary>
    Exhausted,
}

/// <summary>A coupon pool in the admin's view of a campaign: its definition, what Redis has left and its state.</summary>
public sealed record CampaignCouponView(
    string CouponId,
    [property: JsonConverter(typeof(MoneyJsonConverter))] decimal Discount,
    [property: JsonConverter(typeof(MoneyJsonConverter))] decimal MinSpend,
    int Quantity,
    int PerUserLimit,
    int Available,
    CouponState State);

/// <summary>The public view of one coupon pool: <c>GET /api/v1/campaigns/{c}/coupons/{couponId}</c>.</summary>
public sealed record CouponStockView(int Total, int Available, CouponState State);

/// <summary>A pool as Redis holds it: coupons free, locked by unpaid orders (or a reservation under way), redeemed by paid ones.</summary>
public sealed record CouponRedisView(long Available, long Locked, long Redeemed);

/// <summary>Coupons of the pool carried by orders in MySQL, by the order's state: pending, paid, cancelled.</summary>
public sealed record CouponDbView(long Locked, long Redeemed, long Released);

/// <summary>
/// One coupon pool's ledger (admin): <c>total = available + locked + redeemed</c> in Redis, held against the orders MySQL has
/// with the coupon; <c>inFlight</c> counts coupons on their way between the two (a reservation not yet persisted, a release
/// on its way back), <c>drift</c> what the two sides disagree on beyond that, and <c>findings</c> names it (first 100).
/// </summary>
public sealed record CouponLedgerView(
    long Total,
    CouponRedisView Redis,
    CouponDbView Db,
    long InFlight,
    long Drift,
    DateTime CheckedAt,
    IReadOnlyList<DriftFindingView> Findings);

/// <summary>One pool's reconciliation through the admin API: its ledger before, the repairs made by kind, its ledger after.</summary>
public sealed record CouponReconcileView(string CouponId, CouponLedgerView Before, IReadOnlyDictionary<string, int> Repairs, CouponLedgerView After);
