namespace FlashSale.Engine.Live;

/// <summary>
/// The fixed latency buckets of the live counters: every Ingress counts its reservations' latencies into the same
/// buckets, so the deployment's counts add up bucket by bucket and its percentiles come from the sum.
/// </summary>
public static class LatencyBuckets
{
    /// <summary>Upper bounds in milliseconds; a last bucket holds everything slower.</summary>
    public static readonly double[] UpperBoundsMs =
        [0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4, 5, 7.5, 10, 15, 20, 30, 40, 50, 75, 100, 150, 200, 300, 500, 750, 1_000, 2_000, 5_000, 10_000];

    public static int Count => UpperBoundsMs.Length + 1;

    public static int IndexOf(double milliseconds)
    {
        var index = Array.BinarySearch(UpperBoundsMs, milliseconds);
        return index >= 0 ? index : ~index;
    }

    /// <summary>
    /// The <paramref name="quantile"/> (0..1) of the counts, interpolated linearly inside its bucket; null when there are none.
    /// The last bucket has no upper bound: a quantile in it is its lower bound.
    /// </summary>
    public static double? Quantile(IReadOnlyList<long> counts, double quantile)
    {
        long total = 0;
        foreach (var count in counts)
        {
            total += count;
        }
        if (total == 0)
        {
            return null;
        }
        var rank = quantile * total;
        long seen = 0;
        for (var i = 0; i < counts.Count; i++)
        {
            if (counts[i] == 0 || seen + counts[i] < rank)
            {
                seen += counts[i];
                continue;
            }
            var lower = i == 0 ? 0 : UpperBoundsMs[i - 1];
            if (i >= UpperBoundsMs.Length)
            {
                return lower;
            }
            var fraction = Math.Clamp((rank - seen) / counts[i], 0, 1);
            return lower + ((UpperBoundsMs[i] - lower) * fraction);
        }
        return UpperBoundsMs[^1];
    }
}
