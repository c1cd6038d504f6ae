using FlashSale.Engine.Storage;

namespace FlashSale.Engine.Persistence;

/// <summary>
/// Moves the per-batch SKU counter deltas that shards recorded (<c>counter_outbox</c>: units reserved by persisted orders,
/// sold by payments, released by cancels) into the catalog's <c>campaign_sku_counters</c>, exactly once
/// (<c>counter_applied</c>); see <see cref="ShardCounterApplier{TKey}"/>.
/// </summary>
public sealed class CounterApplier(ShardDataSources shards, CatalogDataSource catalog)
    : ShardCounterApplier<long>(shards, catalog, new CounterTables(
        "counter_outbox", "counter_applied", "campaign_sku_counters", "sku_id", ("reserved", "sold", "released"), "flashsale.counters"));
