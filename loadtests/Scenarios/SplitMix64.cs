namespace FlashSale.LoadTests.Scenarios;

/// <summary>SplitMix64's finaliser: a cheap, well-mixed 64-bit hash for deterministic draws.</summary>
internal static class SplitMix64
{
    public static ulong Hash(ulong x)
    {
        x += 0x9E3779B97F4A7C15;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EB;
        return x ^ (x >> 31);
    }

    /// <summary>A uniform draw from [0, 1), the same for the same <paramref name="x"/>.</summary>
    public static double Uniform(ulong x) => (Hash(x) >> 11) * (1.0 / (1UL << 53));
}
