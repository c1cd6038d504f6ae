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
}
