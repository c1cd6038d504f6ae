using System.ComponentModel.DataAnnotations;

namespace FlashSale.Engine.Buckets;

/// <summary>Settings of SKUs split into stock buckets (section <c>Buckets</c>).</summary>
public sealed class BucketOptions
{
    public const string Section = "Buckets";

    /// <summary>
    /// How many times a reservation that found its bucket empty asks for stock from the others and tries again before it
    /// answers sold-out. Each try follows a refill that found units somewhere, so the SKU is sold out long before this
    /// runs out; it only bounds a request that keeps losing the units it refilled to its bucket's other buyers.
    /// </summary>
    [Range(1, 1_000)]
    public int MaxRefills { get; set; } = 16;

    /// <summary>
    /// How long a refill that finds no units in any bucket waits for transfers still open (units on their way between
    /// two buckets) before the request is answered sold-out.
    /// </summary>
    [Range(0, 10_000)]
    public int TransitWaitMs { get; set; } = 250;

    /// <summary>
    /// TESTS ONLY. When true, the process kills itself (as <c>kill -9</c> would) right after the donor's step of a
    /// transfer that took units and before the receiver's: the crash a transfer must survive, made reproducible. The
    /// reconciler finishes the transfer after <c>Reconciler:TransferGraceMs</c>. Never set it in a deployment.
    /// </summary>
    public bool CrashAfterDonorStep { get; set; }
}
