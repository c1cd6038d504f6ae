using FlashSale.Engine.Redis;
using StackExchange.Redis;

namespace FlashSale.Tests.Infrastructure;

/// <summary>What tests read of a SKU's ledger and buyers, whichever layout the SKU has (<see cref="LedgerLayout"/>, <see cref="BuyerRecord"/>).</summary>
public static class RedisLedger
{
    /// <summary>Every ledger entry, order number → raw record.</summary>
    public static async Task<HashEntry[]> AllAsync(IDatabaseAsync db, SkuKeys sku)
    {
        var all = new List<HashEntry>();
        await foreach (var entry in LedgerLayout.ScanAsync(db, sku))
        {
            all.Add(entry);
        }
        return [.. all];
    }

    /// <summary>How many orders the ledger holds.</summary>
    public static async Task<long> LengthAsync(IDatabaseAsync db, SkuKeys sku)
    {
        var lengths = await Task.WhenAll(LedgerLayout.KeysOf(sku, await LedgerLayout.ShardsAsync(db, sku)).Select(key => db.HashLengthAsync(key)));
        return lengths.Sum();
    }

    /// <summary>The raw ledger record of one order, or null.</summary>
    public static async Task<string?> RecordAsync(IDatabaseAsync db, SkuKeys sku, long orderNo)
        => (await LedgerLayout.GetAsync(db, sku, [orderNo]))[0] is { IsNull: false } value ? value.ToString() : null;

    /// <summary>The raw ledger record of one order (its number as the API gives it), or null.</summary>
    public static Task<string?> RecordAsync(IDatabaseAsync db, SkuKeys sku, string orderNo)
        => RecordAsync(db, sku, long.Parse(orderNo, System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>
    /// <paramref name="count"/> order numbers as a sale hands them out (consecutive sequence numbers, 2^12 apart), the
    /// first at or above <paramref name="floor"/> and in the SKU's shard 0, so a walk that starts there meets them at once.
    /// </summary>
    public static async Task<long[]> OrderNumbersAsync(IDatabaseAsync db, SkuKeys sku, long floor, int count)
    {
        var shards = Math.Max(1, await LedgerLayout.ShardsAsync(db, sku));
        var group = ((floor >> 17) / shards + 1) * shards;
        return [.. Enumerable.Range(0, count).Select(i => (group << 17) + ((long)i << 12))];
    }

    /// <summary>Writes ledger entries behind the engine's back, each into the hash that holds it, in pipelined HSETs of one shard each.</summary>
    public static async Task WriteAsync(IDatabaseAsync db, SkuKeys sku, IEnumerable<(long OrderNo, string Record)> entries)
    {
        var shards = await LedgerLayout.ShardsAsync(db, sku);
        var pending = new List<Task>();
        foreach (var shard in entries.GroupBy(e => LedgerLayout.KeyOf(sku, shards, e.OrderNo)))
        {
            pending.Add(db.HashSetAsync(shard.Key, [.. shard.Select(e => new HashEntry(e.OrderNo, e.Record))]));
            if (pending.Count == 200)
            {
                await Task.WhenAll(pending);
                pending.Clear();
            }
        }
        await Task.WhenAll(pending);
    }

    /// <summary>Units the buyer holds (the per-buyer limit's count).</summary>
    public static async Task<int> BoughtAsync(IDatabaseAsync db, SkuKeys sku, long userId)
        => BuyerRecord.Parse(await db.HashGetAsync(sku.Users, userId)).Bought;

    /// <summary>Every buyer's record.</summary>
    public static async Task<Dictionary<long, BuyerRecord>> BuyersAsync(IDatabaseAsync db, SkuKeys sku)
        => (await db.HashGetAllAsync(sku.Users)).ToDictionary(e => (long)e.Name, e => BuyerRecord.Parse(e.Value));
}
