using System.Collections.Concurrent;
using FlashSale.Engine.Redis;
using StackExchange.Redis;

namespace FlashSale.Engine.Buckets;

/// <summary>
/// How many stock buckets each SKU has, as Redis says (the <see cref="MetaFields.Buckets"/> field of its bucket 0's meta,
/// absent for a SKU that is not split), read once per SKU and process: a campaign's definition never changes, and warm-up
/// writes the field before any bucket's stock, so a SKU found live is found with its buckets. A SKU Redis does not know is
/// not remembered (it may be warmed up later) and counts as one bucket: its requests find it not warmed.
/// </summary>
public sealed class BucketMap(IDatabase db)
{
    private readonly ConcurrentDictionary<(string, long), int> _buckets = new();

    public ValueTask<int> CountAsync(string campaignId, long skuId)
        => _buckets.TryGetValue((campaignId, skuId), out var buckets) ? new(buckets) : new(LoadAsync(campaignId, skuId));

    /// <summary>The keys of the bucket serving <paramref name="userId"/>: the SKU's own keys when it is not split.</summary>
    public async ValueTask<SkuKeys> KeysForAsync(string campaignId, long skuId, long userId)
    {
        var home = new SkuKeys(campaignId, skuId);
        var buckets = await CountAsync(campaignId, skuId);
        return buckets > 1 ? BucketRouting.KeysOf(home, userId, buckets) : home;
    }

    private async Task<int> LoadAsync(string campaignId, long skuId)
    {
        var fields = await db.HashGetAsync(new SkuKeys(campaignId, skuId).Meta, [MetaFields.Buckets, MetaFields.Total]);
        if (!fields[0].IsNull)
        {
            return _buckets[(campaignId, skuId)] = Math.Clamp((int)fields[0], 1, BucketRouting.MaxBuckets);
        }
        if (!fields[1].IsNull)
        {
            return _buckets[(campaignId, skuId)] = 1;
        }
        return 1;
    }
}
