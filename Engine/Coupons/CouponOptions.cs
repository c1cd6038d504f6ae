using System.ComponentModel.DataAnnotations;

namespace FlashSale.Engine.Coupons;

/// <summary>Coupons' settings (section <c>Coupons</c>).</summary>
public sealed class CouponOptions
{
    public const string Section = "Coupons";

    /// <summary>The crash point between the two Tries (<see cref="CrashPoint"/>) by its configured name.</summary>
    public const string BetweenTries = "between-tries";

    /// <summary>
    /// How long after its Try a coupon locked for an order number whose order does not exist (an orphan: its Ingress died
    /// between Try-coupon and Try-stock, or gave up on an unknown outcome) is left alone before it is cancelled. The two Tries
    /// are made back to back, so a few seconds are plenty; the stock side is barred before the coupon goes back, so a Try
    /// that comes even later is refused rather than made without its coupon.
    /// </summary>
    [Range(100, 3_600_000)]
    public int OrphanGraceMs { get; set; } = 30_000;

    /// <summary>How often the Persister's sweep looks for orphaned coupons (only at those older than the grace).</summary>
    [Range(50, 600_000)]
    public int SweepIntervalMs { get; set; } = 5_000;

    /// <summary>Orphans looked at per pool per sweep.</summary>
    [Range(1, 10_000)]
    public int SweepBatchSize { get; set; } = 500;

    /// <summary>
    /// For crash tests only: <c>between-tries</c> makes the Ingress kill itself right after a Try-coupon succeeded, before
    /// its Try-stock, so a test can show that the sweep gives the coupon back. Empty (the default): no crash point.
    /// </summary>
    [RegularExpression("^(|" + BetweenTries + ")$", ErrorMessage = "Coupons:CrashPoint is empty or 'between-tries'.")]
    public string CrashPoint { get; set; } = "";
}
