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

    /// <summary>
    /// How long a stock transfer between two buckets of a split SKU may stay open (its donor's step done, its receiver's
    /// not yet known to be) before the reconciler calls it half-done and finishes it. Its two steps take milliseconds,
    /// so an open transfer this old lost its initiator (a crash); finishing it early is safe too (both steps are
    /// idempotent), only needless.
    /// </summary>
    [Range(0, 3_600_000)]
    public int TransferGraceMs { get; set; } = 5_000;

    /// <summary>
    /// Entries per page of the reconciler's walks: one HSCAN of the ledger, one HMGET, one MySQL page. The reconciler
    /// must never hold up the thread that decides the hot SKU for a millisecond: an HSCAN of 500 entries took 150 µs on
    /// a quiet machine and 350-800 µs on a loaded one, so 250 keeps a wide margin.
    /// </summary>
    [Range(10, 2_000)]
    public int WalkPageSize { get; set; } = 250;

    /// <summary>
    /// Pages of one SKU's walk a round of the loop takes at most; the next round goes on where it stopped. Bounds a
    /// round's cost whatever the number of orders: 400 pages of 250 cover 100,000 entries a round.
    /// </summary>
    [Range(1, 1_000_000)]
    public int WalkPagesPerRound { get; set; } = 400;

    /// <summary>
    /// Pages of a SKU's walk a round takes at most while the SKU is selling (its decision sequence moved since the last
    /// round): its counts disagree with MySQL's by the orders on their way, so every round would walk, and the walk
    /// competes for the CPU with the buyers. 40 pages of 250 cover 10,000 entries a round; the walk goes on at the full
    /// <see cref="WalkPagesPerRound"/> once the sale pauses.
    /// </summary>
    [Range(1, 1_000_000)]
    public int WalkPagesPerSellingRound { get; set; } = 40;

    /// <summary>
    /// After each page of a loop round's walk (its HSCAN, its MySQL reads, its HMGET) and each count of a SKU's orders in
    /// MySQL, the round rests this many times as long as that took, so it takes at most 1 / (1 + factor) of the time
    /// while it runs: 3 keeps it to a quarter. A page reads hundreds of orders and a count reads all of a SKU's; back to
    /// back they are bursts of a core for the Persister, MySQL and Redis together, which a sale's buyers feel as latency.
    /// 0 never rests. The ledger endpoint and <c>Warmup reconcile</c> never rest.
    /// </summary>
    [Range(0.0, 100.0)]
    public double WalkPauseFactor { get; set; } = 3;

    /// <summary>
    /// How long the loop may go on without counting a SKU's orders in MySQL (one GROUP BY over every order of the SKU, on
    /// every shard: the cost that grows with sales). In between, a round counts them only when Redis's counts or the
    /// catalog's running counters moved since the last count, and takes the running counters while the SKU is selling.
    /// </summary>
    [Range(0, 86_400_000)]
    public int TotalsMaxAgeMs { get; set; } = 300_000;

    /// <summary>How often the leaseholder looks for fenced SKUs, so that a fenced SKU is rebuilt within moments, not a round.</summary>
    [Range(20, 60_000)]
    public int FenceCheckIntervalMs { get; set; } = 200;

    /// <summary>
    /// How long recovery waits, after it first finds a SKU fenced, before it reads where Kafka ends: a reservation the
    /// lost Redis decided may still be acknowledged until its delivery report arrives. At least the Ingresses'
    /// <c>Reservations:DurableAckTimeoutMs</c> (2 s by default).
    /// </summary>
    [Range(0, 600_000)]
    public int RecoverySettleMs { get; set; } = 5_000;

    /// <summary>How long recovery waits for the Persisters to write everything Kafka held before it gives up this attempt (the SKUs stay fenced).</summary>
    [Range(1_000, 3_600_000)]
    public int RecoveryCatchUpTimeoutMs { get; set; } = 120_000;

    /// <summary>The loop checks campaigns that have not ended, and those that ended less than this long ago.</summary>
    [Range(1, 24 * 90)]
    public int LookbackHours { get; set; } = 48;
}
