using FlashSale.Engine.Redis;

namespace FlashSale.Engine.Buckets;

/// <summary>
/// Which bucket of a SKU split into stock buckets serves a buyer, and how a SKU's stock is spread over its buckets at
/// warm-up. A buyer always lands in the same bucket, so everything that is per buyer — the per-buyer limit, the
/// Idempotency-Key, a replay — is decided exactly, inside one bucket's slot, as for a SKU that is not split.
/// </summary>
public static class BucketRouting
{
    /// <summary>The most buckets a SKU may have (a definition's <c>buckets</c>): enough for a hot SKU on 16 Redis cores.</summary>
    public const int MaxBuckets = 16;

    /// <summary>
    /// The buyer's bucket: SplitMix64's finaliser of the user id, modulo <paramref name="buckets"/>. A stable hash (the
    /// same in every process and every release: changing it would move buyers away from their orders and counts), and a
    /// mixing one, so that consecutive ids, or ids sharing their low bits (the order shard is <c>userId % 64</c>), spread
    /// evenly.
    /// </summary>
    public static int BucketOf(long userId, int buckets)
    {
        if (buckets <= 1)
        {
            return 0;
        }
        var z = unchecked((ulong)userId + 0x9E3779B97F4A7C15UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        z ^= z >> 31;
        return (int)(z % (ulong)buckets);
    }

    /// <summary>The keys of the buyer's bucket of the SKU <paramref name="home"/> (its bucket 0) with <paramref name="buckets"/> buckets.</summary>
    public static SkuKeys KeysOf(SkuKeys home, long userId, int buckets) => home.InBucket(BucketOf(userId, buckets));

    /// <summary>A first load's spread of <paramref name="total"/> units: equal shares, the remainder one each to the first buckets.</summary>
    public static int[] Spread(int total, int buckets)
    {
        var shares = new int[Math.Max(1, buckets)];
        for (var b = 0; b < shares.Length; b++)
        {
            shares[b] = (total / shares.Length) + (b < total % shares.Length ? 1 : 0);
        }
        return shares;
    }
}
