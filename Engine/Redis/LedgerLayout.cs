using System.Globalization;
using System.Runtime.CompilerServices;
using StackExchange.Redis;

namespace FlashSale.Engine.Redis;

/// <summary>
/// Where a SKU's ledger keeps an order. A SKU first loaded by this engine has its ledger split into
/// <see cref="MetaFields.LedgerShards"/> small hashes, <c>…:ledger:&lt;shard&gt;</c>, of about
/// <see cref="OrdersPerShard"/> orders each, which Redis keeps in its compact listpack encoding instead of one hash table
/// entry per order; the 32 consecutive order numbers of one millisecond share a shard, so a batch writes one or two.
/// A SKU loaded by an older engine has no shard count and one ledger hash, <see cref="SkuKeys.Ledger"/> itself.
/// The Lua side is prelude.lua's <c>ledger_key</c>.
/// </summary>
public static class LedgerLayout
{
    /// <summary>Orders a shard holds on average when the SKU sells its first load's stock one unit per order (warmup.lua).</summary>
    public const int OrdersPerShard = 48;

    /// <summary>
    /// The most shards a SKU gets (warmup.lua), so that a walk over its ledger visits at most this many hashes whatever
    /// its stock. Past 3,145,728 units (48 each) the shards grow beyond Redis's listpack limit and cost what one hash did.
    /// </summary>
    public const int MaxShards = 65_536;

    /// <summary>An order's shard: floor(orderNo / 2^17) mod shards, i.e. groups of 32 sequence numbers of one millisecond.</summary>
    public static long ShardOf(long orderNo, int shards) => (orderNo >> 17) % shards;

    /// <summary>The hash that holds <paramref name="orderNo"/>; <paramref name="shards"/> 0 means one ledger hash.</summary>
    public static RedisKey KeyOf(SkuKeys sku, int shards, long orderNo)
        => shards == 0 ? sku.Ledger : sku.LedgerShard(ShardOf(orderNo, shards));

    /// <summary>How many hashes the ledger has: its shards, or the one hash of a SKU without them.</summary>
    public static int HashesOf(int shards) => Math.Max(1, shards);

    /// <summary>The ledger's hash number <paramref name="index"/> (0 ≤ index &lt; <see cref="HashesOf"/>).</summary>
    public static RedisKey KeyAt(SkuKeys sku, int shards, int index) => shards == 0 ? sku.Ledger : sku.LedgerShard(index);

    /// <summary>Every hash of the ledger, in shard order.</summary>
    public static RedisKey[] KeysOf(SkuKeys sku, int shards)
        => [.. Enumerable.Range(0, HashesOf(shards)).Select(index => KeyAt(sku, shards, index))];

    /// <summary>Every key of the SKU, its ledger's shards too: for tearing a SKU down.</summary>
    public static async Task<RedisKey[]> AllKeysAsync(IDatabaseAsync db, SkuKeys sku)
        => [.. sku.All(), .. KeysOf(sku, await ShardsAsync(db, sku)).Where(key => key != sku.Ledger)];

    /// <summary>The SKU's shard count, 0 for a SKU with one ledger hash (or none loaded).</summary>
    public static async Task<int> ShardsAsync(IDatabaseAsync db, SkuKeys sku)
    {
        var value = await db.HashGetAsync(sku.Meta, MetaFields.LedgerShards);
        return value.IsNull ? 0 : int.Parse(value.ToString(), NumberStyles.None, CultureInfo.InvariantCulture);
    }

    /// <summary>The ledger entries of these orders, in their order (null where the ledger does not hold one): one HMGET per shard, pipelined.</summary>
    public static async Task<RedisValue[]> GetAsync(IDatabaseAsync db, SkuKeys sku, IReadOnlyList<long> orderNos)
        => await GetAsync(db, sku, await ShardsAsync(db, sku), orderNos);

    /// <summary>The same, for a caller that read the shard count already.</summary>
    public static async Task<RedisValue[]> GetAsync(IDatabaseAsync db, SkuKeys sku, int shards, IReadOnlyList<long> orderNos)
    {
        var values = new RedisValue[orderNos.Count];
        var reads = orderNos.Select((orderNo, i) => (orderNo, i)).GroupBy(o => KeyOf(sku, shards, o.orderNo)).Select(async group =>
        {
            var members = group.ToList();
            var found = await db.HashGetAsync(group.Key, [.. members.Select(m => (RedisValue)m.orderNo)]);
            for (var j = 0; j < members.Count; j++)
            {
                values[members[j].i] = found[j];
            }
        });
        await Task.WhenAll(reads);
        return values;
    }

    /// <summary>The ledger entry of one order, or null.</summary>
    public static async Task<LedgerRecord?> FindAsync(IDatabaseAsync db, SkuKeys sku, long orderNo)
        => (await GetAsync(db, sku, [orderNo]))[0] is { IsNull: false } value ? LedgerRecord.Parse(value.ToString()) : null;

    /// <summary>
    /// Every entry of the ledger, shard by shard, each read with HSCAN in pages of about <paramref name="pageSize"/>
    /// (never one command over the whole ledger). For tests, tools and walks that must see everything.
    /// </summary>
    public static async IAsyncEnumerable<HashEntry> ScanAsync(IDatabaseAsync db, SkuKeys sku, int pageSize = 250,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        foreach (var key in KeysOf(sku, await ShardsAsync(db, sku)))
        {
            await foreach (var entry in db.HashScanAsync(key, pageSize: pageSize).WithCancellation(cancellationToken))
            {
                yield return entry;
            }
        }
    }
}
