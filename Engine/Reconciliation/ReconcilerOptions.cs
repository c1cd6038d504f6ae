using System.ComponentModel.DataAnnotations;

namespace FlashSale.Engine.Reconciliation;

/// <summary>Settings of the reconciler (section <c>Reconciler</c>).</summary>
public sealed class ReconcilerOptions
{
    public const string Section = "Reconciler";

    /// <summary>Whether the Persister runs the reconciler loop. The ledger endpoint and <c>warmup reconcile</c> work either way.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Time between two rounds of the loop. It bounds how long Redis may sell units it forgot (after a restart from an older state).</summary>
    [Range(50, 3_600_000)]
    public int IntervalMs { get; set; } = 10_000;

    /// <summary>
    /// How long a reservation may be on its way to MySQL (outbox, relay, Kafka, Persister), and a cancelled
    /// order's units on their way back to Redis, before the reconciler calls it lost and repairs it.
    /// </summary>
    [Range(0, 86_400_000)]
    public int GraceMs { get; set; } = 60_000;

    /// <summary>The loop checks campaigns that have not ended, and those that ended less than this long ago.</summary>
    [Range(1, 24 * 90)]
    public int LookbackHours { get; set; } = 48;
}
