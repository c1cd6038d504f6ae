using FlashSale.Engine.Orders;
using FlashSale.Engine.Redis;

namespace FlashSale.Engine.Reconciliation;

/// <summary>An order of a SKU as MySQL holds it, for the comparison.</summary>
/// <remarks>An order made with a coupon also has <see cref="CouponId"/>, its discount and the pool's sequence of its lock.</remarks>
public sealed record DbOrder(
    long OrderNo, long UserId, int Quantity, decimal Amount, string Status,
    DateTime PaymentDeadline, DateTime CreatedAt, DateTime UpdatedAt, string IdempotencyKey,
    string? CouponId = null, decimal Discount = 0, long CouponSeq = 0);

/// <summary>
/// One page of the reconciler's walk of a SKU's ledger (one HSCAN call), and what Redis said about those orders
/// just after it: which are still on their way to Kafka (a pending mark, and once older than the grace period its
/// outbox entry still in the stream), and when the reconciler last
/// re-published any of them. <see cref="At"/> is the Redis clock read with the pending marks, after the page.
/// </summary>
public sealed record LedgerPage(
    DateTimeOffset At,
    IReadOnlyDictionary<long, LedgerRecord> Records,
    IReadOnlySet<long> Pending,
    IReadOnlyDictionary<long, long> RepublishedAtMs);

/// <summary>
/// The judgement of one ledger entry against its MySQL row: the drift it shows (<see cref="Kind"/>, null for none),
/// whether its units are in flight between the two sides, and whether it is a paid order Redis still labels reserved.
/// </summary>
public readonly record struct OrderVerdict(long OrderNo, char State, int Quantity, string? Kind, bool InFlight, bool PaidLabel);

/// <summary>What one check found: the ledger to show, and what a repair has to act on.</summary>
public sealed record SkuCheck
{
    public required SkuLedger Ledger { get; init; }

    /// <summary>Live orders MySQL holds that the Redis ledger does not know.</summary>
    public IReadOnlyList<DbOrder> UnknownToRedis { get; init; } = [];

    /// <summary>Reservations Redis decided whose event never reached MySQL.</summary>
    public IReadOnlyList<long> Lost { get; init; } = [];

    /// <summary>Orders cancelled in MySQL whose units Redis still holds.</summary>
    public IReadOnlyList<(long OrderNo, int Quantity)> Unreleased { get; init; } = [];

    /// <summary>Paid orders Redis still labels reserved.</summary>
    public IReadOnlyList<long> PaidLabels { get; init; } = [];

    public bool StockOff { get; init; }

    public bool OutboxHasEntries { get; init; }

    public long LiveDbUnits { get; init; }

    /// <summary>Whether the walk covered every order this time (or was not needed); false for one round's share of a long walk.</summary>
    public bool Complete { get; init; } = true;

    /// <summary>Something a repair can act on; a SKU Redis does not hold at all needs its warm-up first.</summary>
    public bool NeedsRepair => Ledger.Warmed && (Ledger.Drift > 0 || PaidLabels.Count > 0);
}

/// <summary>
/// The findings of a walk over a SKU's orders, page by page: each ledger page judged against MySQL
/// (<see cref="LedgerComparison.JudgeLedgerPage"/>) and each page of MySQL's live orders against the ledger
/// (<see cref="LedgerComparison.UnknownToRedis"/>). HSCAN may return an entry twice, so everything is kept by order
/// number and the last judgement of an order wins.
/// </summary>
public sealed class LedgerWalk
{
    private readonly Dictionary<long, OrderVerdict> _notable = [];
    private readonly Dictionary<long, DbOrder> _unknown = [];

    /// <summary>Units in state R and P the walk's pages held: the Redis side of a SKU without exact counts.</summary>
    public long Reserved { get; private set; }

    public long Sold { get; private set; }

    /// <summary>The walk reached the end of both the ledger and MySQL's orders.</summary>
    public bool Complete { get; set; }

    /// <summary>Nothing needed walking: the counts of both sides agree.</summary>
    public bool Skipped { get; private set; }

    public static LedgerWalk NotNeeded() => new() { Complete = true, Skipped = true };

    public void Add(IEnumerable<OrderVerdict> verdicts)
    {
        foreach (var verdict in verdicts)
        {
            if (verdict.State == LedgerRecord.Reserved)
            {
                Reserved += verdict.Quantity;
            }
            else if (verdict.State == LedgerRecord.Paid)
            {
                Sold += verdict.Quantity;
            }
            if (verdict.Kind is not null || verdict.InFlight || verdict.PaidLabel)
            {
                _notable[verdict.OrderNo] = verdict;
            }
            else
            {
                _notable.Remove(verdict.OrderNo);
            }
        }
    }

    public void AddUnknown(IEnumerable<DbOrder> orders)
    {
        foreach (var order in orders)
        {
            _unknown[order.OrderNo] = order;
        }
    }

    public IEnumerable<OrderVerdict> Notable => _notable.Values.OrderBy(v => v.OrderNo);

    public IEnumerable<DbOrder> Unknown => _unknown.Values.OrderBy(o => o.OrderNo);
}

/// <summary>
/// Compares a SKU's Redis side with its orders in MySQL. Pure. The stock check uses the running counts alone
/// (<see cref="SkuCounters"/>: available must be total minus reserved and sold); orders are judged a page at a time,
/// because no read of the ledger is a snapshot any more: each page's Redis reads come before its MySQL reads, so
/// whatever may legitimately be on its way between the two (a young reservation not yet persisted, an event still
/// pending in the outbox, a fresh cancel whose release is running, an order decided after the walk began) counts as
/// in flight, never as drift, and a finding is reported only when a fresh read of the order confirms it
/// (<see cref="Confirm"/>).
/// </summary>
public static class LedgerComparison
{
    /// <summary>
    /// Whether the orders need walking at all: not when the counts are exact and agree with MySQL status by status
    /// (units reserved = units pending, units sold = units paid). Every drift an order can show moves the two sides'
    /// counts apart (a lost event or a reservation in flight: Redis holds more; an unreleased cancel or a paid label:
    /// Redis holds more reserved; a conflict: the states differ), except an order MySQL has and Redis forgot exactly
    /// offsetting one Redis holds that MySQL lacks, which needs Redis to lose decisions, and that fences the SKU.
    /// </summary>
    public static bool WalkNeeded(SkuCounters counters, DbLedgerSide db)
        => !counters.Warmed || !counters.Counted || counters.Reserved != db.Pending || counters.Sold != db.Paid;

    /// <param name="page">Read from Redis before <paramref name="orders"/> was read from MySQL.</param>
    /// <param name="orders">MySQL's rows of the page's orders (absent: no row).</param>
    /// <param name="grace">How long a reservation (or a cancel) may be on its way before its absence is drift.</param>
    public static IReadOnlyList<OrderVerdict> JudgeLedgerPage(LedgerPage page, IReadOnlyDictionary<long, DbOrder> orders, TimeSpan grace)
    {
        var verdicts = new List<OrderVerdict>(page.Records.Count);
        foreach (var (orderNo, record) in page.Records)
        {
            orders.TryGetValue(orderNo, out var order);
            string? kind = null;
            var inFlight = false;
            var paidLabel = false;
            switch (record.State, order?.Status)
            {
                case (LedgerRecord.Cancelled, OrderStatus.PendingPayment or OrderStatus.Paid):
                    // Redis releases only after MySQL cancelled, and MySQL was read after Redis: a contradiction.
                    kind = DriftKind.Conflict;
                    break;
                case (LedgerRecord.Cancelled, _):
                    break;
                case (_, null):
                    // On its way: still pending in the outbox, or decided (or re-published) within the grace period, so in Kafka or in a batch.
                    var sent = Math.Max(record.CreatedMs, page.RepublishedAtMs.GetValueOrDefault(orderNo));
                    if (page.Pending.Contains(orderNo) || page.At - DateTimeOffset.FromUnixTimeMilliseconds(sent) < grace)
                    {
                        inFlight = true;
                    }
                    else
                    {
                        kind = DriftKind.LostEvent;
                    }
                    break;
                case (LedgerRecord.Paid, OrderStatus.Cancelled):
                    kind = DriftKind.Conflict;
                    break;
                case (LedgerRecord.Reserved, OrderStatus.Cancelled):
                    if (page.At - Utc(order!.UpdatedAt) < grace)
                    {
                        inFlight = true;
                    }
                    else
                    {
                        kind = DriftKind.UnreleasedCancel;
                    }
                    break;
                case (LedgerRecord.Reserved, OrderStatus.Paid):
                    paidLabel = true;
                    break;
            }
            verdicts.Add(new OrderVerdict(orderNo, record.State, record.Quantity, kind, inFlight, paidLabel));
        }
        return verdicts;
    }

    /// <summary>
    /// Keeps a page's findings only where a fresh read of the same orders (Redis again, then MySQL again: judged by
    /// <see cref="JudgeLedgerPage"/> into <paramref name="fresh"/>) shows the same drift: the page was read while the
    /// sale went on, so an order may have moved on in between (released, persisted, paid). An order whose finding is
    /// not confirmed takes its fresh judgement without a finding; the next walk judges it again.
    /// </summary>
    public static IReadOnlyList<OrderVerdict> Confirm(IReadOnlyList<OrderVerdict> page, IReadOnlyList<OrderVerdict> fresh)
    {
        var again = fresh.ToDictionary(v => v.OrderNo);
        return [.. page.Select(v => v.Kind is null ? v
            : !again.TryGetValue(v.OrderNo, out var now) ? v with { Kind = null, InFlight = false, PaidLabel = false }
            : now.Kind == v.Kind ? now
            : now with { Kind = null })];
    }

    /// <summary>
    /// MySQL's live orders of one page that the ledger does not hold. <paramref name="inLedger"/> was read from Redis
    /// after the page was read from MySQL; every order is decided in Redis before it can be persisted and ledger
    /// entries are never removed, so one missing then is forgotten. An order younger than <paramref name="margin"/> at
    /// <paramref name="at"/> is still left to the next walk, so no read made before its decision can be judged against it.
    /// </summary>
    public static IReadOnlyList<DbOrder> UnknownToRedis(IReadOnlyList<DbOrder> page, IReadOnlySet<long> inLedger, DateTimeOffset at, TimeSpan margin)
        => [.. page.Where(o => o.Status != OrderStatus.Cancelled && !inLedger.Contains(o.OrderNo) && Utc(o.CreatedAt) < at - margin)];

    /// <summary>The SKU's ledger from its counts (stock check), MySQL's units by status and the walk's findings.</summary>
    public static SkuCheck Compare(string campaignId, long skuId, int stock, SkuCounters counters, DbLedgerSide db, LedgerWalk walk)
    {
        var findings = new List<DriftFinding>();
        var unknown = walk.Unknown.ToList();
        findings.AddRange(unknown.Select(o => new DriftFinding(DriftKind.UnknownToRedis, o.OrderNo, o.Quantity)));
        if (!counters.Warmed)
        {
            // Redis knows nothing of the SKU: its live orders are unknown to Redis, but there is no stock to take
            // them out of. Loading the SKU (warm-up) and the next round settle it.
            return new SkuCheck
            {
                Ledger = new SkuLedger(campaignId, skuId, false, stock, new RedisLedgerSide(0, 0, 0), db, 0,
                    findings.Sum(f => (long)f.Units), counters.At, findings),
                Complete = walk.Complete,
            };
        }

        var notable = walk.Notable.ToList();
        findings.AddRange(notable.Where(v => v.Kind is not null).Select(v => new DriftFinding(v.Kind!, v.OrderNo, v.Quantity)));
        var stockOff = false;
        var (reserved, sold) = counters.Counted ? (counters.Reserved, counters.Sold) : (walk.Reserved, walk.Sold);
        // Without exact counts the stock is not judged at all: a count guessed from a walk that is not a snapshot could
        // put units on sale that buyers hold.
        if (counters.Counted)
        {
            var (total, available) = (counters.Total, counters.Available);
            var held = reserved + sold;
            if (held > total)
            {
                findings.Add(new DriftFinding(DriftKind.Oversold, 0, (int)(held - total)));
                stockOff = available > 0;
            }
            else if (available != total - held)
            {
                findings.Add(new DriftFinding(DriftKind.StockMismatch, 0, (int)Math.Abs(available - (total - held))));
                stockOff = true;
            }
        }

        return new SkuCheck
        {
            Ledger = new SkuLedger(campaignId, skuId, true, stock, new RedisLedgerSide(counters.Available, reserved, sold), db,
                notable.Where(v => v.InFlight).Sum(v => (long)v.Quantity), findings.Sum(f => (long)f.Units), counters.At, findings),
            StockOff = stockOff,
            OutboxHasEntries = counters.OutboxLength > 0,
            LiveDbUnits = db.Pending + db.Paid,
            UnknownToRedis = unknown,
            Lost = [.. notable.Where(v => v.Kind == DriftKind.LostEvent).Select(v => v.OrderNo)],
            Unreleased = [.. notable.Where(v => v.Kind == DriftKind.UnreleasedCancel).Select(v => (v.OrderNo, v.Quantity))],
            PaidLabels = [.. notable.Where(v => v.PaidLabel).Select(v => v.OrderNo)],
            Complete = walk.Complete,
        };
    }

    private static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));
}
