using FlashSale.Engine.Fencing;
using FlashSale.Engine.Redis;

namespace FlashSale.Tests.Infrastructure;

/// <summary>Where a SKU's keys live on a Redis Cluster: lets a test put SKUs on the primaries it wants.</summary>
public static class ClusterSlots
{
    /// <summary>
    /// One SKU id per primary in <paramref name="primaries"/>, in their order, each the first id from
    /// <paramref name="first"/> on whose hash tag falls in that primary's slots (on a single server: consecutive ids).
    /// </summary>
    public static long[] SkusOn(string campaignId, IReadOnlyList<RedisPrimary> primaries, long first)
    {
        var skus = new long[primaries.Count];
        var next = first;
        for (var i = 0; i < primaries.Count; i++)
        {
            while (!primaries[i].Serves(HashSlot.Of(new SkuKeys(campaignId, next).Tag)))
            {
                next++;
            }
            skus[i] = next++;
        }
        return skus;
    }

    /// <summary>
    /// The first SKU id from <paramref name="first"/> on whose <paramref name="buckets"/> stock buckets fall on as many
    /// different primaries as there are (all of them, when there are no more primaries than buckets); on a single server,
    /// <paramref name="first"/> itself.
    /// </summary>
    public static long SpreadSku(string campaignId, IReadOnlyList<RedisPrimary> primaries, int buckets, long first)
    {
        var wanted = Math.Min(buckets, primaries.Count);
        for (var sku = first; ; sku++)
        {
            var on = new SkuKeys(campaignId, sku).AllBuckets(buckets)
                .Select(b => primaries.First(p => p.Serves(HashSlot.Of(b.Tag))).EndPoint)
                .Distinct()
                .Count();
            if (on == wanted)
            {
                return sku;
            }
        }
    }
}
