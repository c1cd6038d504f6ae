using FlashSale.Engine.Storage;

namespace FlashSale.Engine.Persistence;

/// <summary>
/// Moves the per-pool coupon counter deltas the shards recorded (<c>coupon_counter_outbox</c>: coupons locked by persisted
/// orders, redeemed by payments, released by cancels) into the catalog's <c>campaign_coupon_counters</c>, exactly once
/// (<c>coupon_counter_applied</c>), as <see cref="CounterApplier"/> does for SKUs; see <see cref="ShardCounterApplier{TKey}"/>.
/// </summary>
public sealed class CouponCounterApplier(ShardDataSources shards, CatalogDataSource catalog)
    : ShardCounterApplier<string>(shards, catalog, new CounterTables(
        "coupon_counter_outbox", "coupon_counter_applied", "campaign_coupon_counters", "coupon_id", ("locked", "redeemed", "released"),
        "flashsale.coupon-counters"));
