namespace FlashSale.Engine.Reconciliation;

/// <summary>The kinds of drift between Redis and MySQL; stable names for logs, metrics and the API.</summary>
public static class DriftKind
{
    /// <summary>A reservation Redis decided that never reached MySQL (its event was lost): an undersold unit, a buyer with an order number but no order.</summary>
    public const string LostEvent = "lost-event";

    /// <summary>A live order MySQL holds that the Redis ledger does not know (Redis came back from an older state): its unit could be sold twice.</summary>
    public const string UnknownToRedis = "unknown-to-redis";

    /// <summary>An order cancelled in MySQL whose units never went back to Redis.</summary>
    public const string UnreleasedCancel = "unreleased-cancel";

    /// <summary>Redis stock is not total minus the units its own ledger holds.</summary>
    public const string StockMismatch = "stock-mismatch";

    /// <summary>The Redis ledger holds more units than the SKU's total: units were sold twice. No script can undo that; an operator must.</summary>
    public const string Oversold = "oversold";

    /// <summary>The two sides contradict each other (paid in one, cancelled in the other): left for an operator.</summary>
    public const string Conflict = "conflict";

    /// <summary>
    /// A stock transfer between two buckets of a split SKU left half-done (its initiator died between the donor's step and
    /// the receiver's): its units are in neither bucket until it is finished, or undone when the receiver was rebuilt since.
    /// </summary>
    public const string UnfinishedTransfer = "unfinished-transfer";

    /// <summary>A paid order still marked reserved in the Redis ledger: the same units held either way, so not drift, but repaired.</summary>
    public const string PaidLabel = "paid-label";
}

/// <summary>One disagreement: what kind, which order (0 for a SKU-wide one) and how many units.</summary>
public sealed record DriftFinding(string Kind, long OrderNo, int Units);

public sealed record RedisLedgerSide(long Available, long Reserved, long Sold);

public sealed record DbLedgerSide(long Pending, long Paid, long Cancelled);

/// <summary>
/// A campaign SKU's ledger computed from both sides at one moment. <see cref="InFlight"/> counts units of
/// reservations Redis decided that are still on their way to MySQL (and of cancels whose release is on its
/// way back); <see cref="Drift"/> counts the units the two sides disagree on beyond those.
/// </summary>
public sealed record SkuLedger(
    string CampaignId,
    long SkuId,
    bool Warmed,
    int Total,
    RedisLedgerSide Redis,
    DbLedgerSide Db,
    long InFlight,
    long Drift,
    DateTimeOffset CheckedAt,
    IReadOnlyList<DriftFinding> Findings,
    string DbTotals = DbTotalsSource.Exact);

/// <summary>
/// Where a check's MySQL totals (<see cref="SkuLedger.Db"/>) came from; stable names for metrics. Checks on demand (the
/// admin API, <c>warmup reconcile</c>) always count the orders; the loop's rounds read them only when they may have moved.
/// </summary>
public static class DbTotalsSource
{
    /// <summary>Counted from the SKU's orders on every shard now.</summary>
    public const string Exact = "exact";

    /// <summary>Counted by an earlier round of the loop, since which neither Redis's counts nor the catalog's running counters moved.</summary>
    public const string Unchanged = "unchanged";

    /// <summary>
    /// The catalog's running counters (<c>campaign_sku_counters</c>), which lag the orders by the counter loop's interval:
    /// a loop round on a SKU that is selling, where they only decide whether to walk and fill the report.
    /// </summary>
    public const string RunningCounters = "running-counters";
}

/// <summary>One SKU's reconciliation: the ledger before, the repairs made (by kind), and the ledger after them.</summary>
public sealed record SkuReconciliation(SkuLedger Before, IReadOnlyDictionary<string, int> Repairs, SkuLedger After);
