using System.Globalization;
using Dapper;
using FlashSale.Engine.Campaigns;
using FlashSale.Engine.Orders;
using FlashSale.Engine.Reconciliation;
using FlashSale.Engine.Redis;
using FlashSale.Engine.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace FlashSale.Engine.Coupons;

/// <summary>The kinds of drift between a coupon pool in Redis and the orders in MySQL that carry its coupons.</summary>
public static class CouponDriftKind
{
    /// <summary>A coupon locked by a Try whose order does not exist and is older than the grace period: the sweep's to give back.</summary>
    public const string Orphan = "orphan-coupon";

    /// <summary>A live order (pending or paid) with the coupon that the pool does not hold: the coupon could be given out twice.</summary>
    public const string UnknownToPool = "unknown-to-pool";

    /// <summary>An order cancelled in MySQL whose coupon the pool still holds past the grace period.</summary>
    public const string Unreleased = "unreleased-coupon";

    /// <summary>The pool's available coupons are not its total minus those its locks hold.</summary>
    public const string StockMismatch = "coupon-stock-mismatch";

    /// <summary>A lock of an order that exists (or was paid) that MySQL has not had for longer than the grace period: its event is the SKU's lost event.</summary>
    public const string LostEvent = "coupon-lost-event";

    /// <summary>The pool gave out more coupons than it has (an adopted order found none left): an operator must resolve it.</summary>
    public const string OverIssued = "over-issued";

    /// <summary>The two sides contradict each other (redeemed in one, unpaid or cancelled in the other): left for an operator.</summary>
    public const string Conflict = "coupon-conflict";

    /// <summary>A paid order whose coupon the pool still calls locked: the same coupon held either way, so not drift, but relabelled.</summary>
    public const string RedeemLabel = "coupon-redeem-label";
}

public sealed record CouponRedisSide(long Available, long Locked, long Redeemed);

public sealed record CouponDbSide(long Locked, long Redeemed, long Released);

/// <summary>One coupon pool's ledger from both sides at one moment; see <see cref="CouponReconciler"/>.</summary>
public sealed record CouponLedger(
    string CampaignId,
    string CouponId,
    bool Warmed,
    long Total,
    CouponRedisSide Redis,
    CouponDbSide Db,
    long InFlight,
    long Drift,
    DateTimeOffset CheckedAt,
    IReadOnlyList<DriftFinding> Findings);

/// <summary>One pool's reconciliation: its ledger before, the repairs made by kind, its ledger after them.</summary>
public sealed record CouponReconciliation(CouponLedger Before, IReadOnlyDictionary<string, int> Repairs, CouponLedger After);

/// <summary>
/// Compares each coupon pool's Redis side (total = available + locked + redeemed, from its running counts) with the orders
/// MySQL has that carry its coupons (pending = locked, paid = redeemed, cancelled = released), and repairs drift like the
/// SKU reconciler does for stock: a live order's coupon the pool forgot is adopted back (coupon-adopt.lua), an orphaned Try
/// is swept (<see cref="CouponSweeper"/>), a cancelled order's coupon still held is released, a paid order's coupon is
/// relabelled redeemed, and the pool's available count is set from its counts (restock.lua on the pool) — never above total
/// minus MySQL's live coupons. Orders are looked at only when the two sides' counts disagree: the pool's locks are walked with
/// HSCAN, page by page, against their orders' rows, then MySQL's live orders with the coupon against the locks (HMGET). A pool
/// holds at most its quantity of coupons, so a walk is bounded by the pool's size, not by the SKUs' sales.
/// Pools are fenced and rebuilt like SKUs: a pool whose Redis sequence is below the highest one MySQL persisted is fenced
/// (<see cref="FenceIfBehindAsync"/>), and <see cref="RecoverAsync"/> rebuilds fenced pools once Kafka is consumed.
/// </summary>
public sealed partial class CouponReconciler(
    IDatabase db,
    ShardDataSources shards,
    CampaignStore campaigns,
    CouponScripts scripts,
    CouponSweeper sweeper,
    ReconcilerMetrics metrics,
    IOptions<ReconcilerOptions> reconcilerOptions,
    TimeProvider time,
    ILogger<CouponReconciler> logger,
    KafkaCatchUp? kafka = null)
{
    private static readonly TimeSpan WalkMargin = TimeSpan.FromSeconds(1);

    private static readonly string[] LiveStatuses = [OrderStatus.PendingPayment, OrderStatus.Paid];

    private const string SelectOrders = """
        SELECT order_no AS OrderNo, user_id AS UserId, sku_id AS SkuId, status AS Status, discount AS Discount,
               created_at AS CreatedAt, updated_at AS UpdatedAt, idempotency_key AS IdempotencyKey
        FROM orders
        """;

    private readonly ReconcilerOptions _settings = reconcilerOptions.Value;

    // When this process first found each pool fenced: where the settle time starts.
    private readonly Dictionary<CouponKeys, long> _fencedSince = [];

    /// <summary>The ledger of one pool, or null when the campaign has no such pool. Read-only.</summary>
    public async Task<CouponLedger?> CheckAsync(string campaignId, string couponId, CancellationToken cancellationToken)
    {
        var campaign = await campaigns.GetAsync(campaignId, cancellationToken);
        var coupon = campaign?.FindCoupon(couponId);
        return coupon is null ? null : (await CheckPoolAsync(campaign!.CampaignId, coupon, cancellationToken)).Ledger;
    }

    /// <summary>Checks every pool of the campaign and, with <paramref name="repair"/>, repairs what drifted and checks again.</summary>
    public async Task<IReadOnlyList<CouponReconciliation>> ReconcileAsync(CampaignDefinition campaign, bool repair, CancellationToken cancellationToken)
    {
        var results = new List<CouponReconciliation>(campaign.CouponPools.Count);
        foreach (var coupon in campaign.CouponPools)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var pool = new CouponKeys(campaign.CampaignId, coupon.CouponId);
            if (repair)
            {
                await FenceIfBehindAsync(pool, cancellationToken);
            }
            var before = await CheckPoolAsync(campaign.CampaignId, coupon, cancellationToken);
            if (repair)
            {
                foreach (var kind in before.Ledger.Findings.GroupBy(f => f.Kind))
                {
                    metrics.DriftFound(kind.Key, kind.Sum(f => (long)f.Units));
                }
            }
            if (!repair || !before.NeedsRepair)
            {
                results.Add(new CouponReconciliation(before.Ledger, new Dictionary<string, int>(), before.Ledger));
                continue;
            }
            var repairs = await RepairAsync(pool, coupon, before, cancellationToken);
            var after = await CheckPoolAsync(campaign.CampaignId, coupon, cancellationToken);
            results.Add(new CouponReconciliation(before.Ledger, repairs, after.Ledger));
            if (before.Ledger.Drift > 0 || repairs.Count > 0)
            {
                LogPool(logger, pool.Member, before.Ledger.Drift, string.Join(", ", repairs.Select(r => $"{r.Key} {r.Value}")), after.Ledger.Drift);
            }
        }
        return results;
    }

    /// <summary>The highest decision sequence of the pool any shard has persisted (0 when none).</summary>
    public async Task<long> HighWaterAsync(CouponKeys pool, CancellationToken cancellationToken)
    {
        var marks = await shards.QueryEveryShardAsync<long>(
            "SELECT seq FROM coupon_high_water WHERE campaign_id = @campaignId AND coupon_id = @couponId",
            new { campaignId = pool.CampaignId, couponId = pool.CouponId }, cancellationToken);
        return marks.Count == 0 ? 0 : marks.Max();
    }

    /// <summary>Fences the pool when its Redis sequence is below the persisted high-water mark (MySQL read first).</summary>
    public async Task<bool> FenceIfBehindAsync(CouponKeys pool, CancellationToken cancellationToken)
    {
        var highWater = await HighWaterAsync(pool, cancellationToken);
        if (highWater == 0)
        {
            return false;
        }
        var sequence = await db.HashGetAsync(pool.Meta, MetaFields.Sequence);
        var current = sequence.IsNull ? 0 : (long)sequence;
        if (current >= highWater
            || await scripts.FenceAsync(db, pool, $"behind: sequence {current}, MySQL persisted {highWater}") != FenceOutcome.Fenced)
        {
            return false;
        }
        LogFencedBehind(logger, pool.Member, current, highWater);
        return true;
    }

    /// <summary>The live pools whose fence is up.</summary>
    public async Task<IReadOnlyList<CouponKeys>> FencedAsync()
    {
        var pools = await CouponKeyspace.LivePoolsAsync(db);
        var fenced = await Task.WhenAll(pools.Select(p => db.HashExistsAsync(p.Meta, MetaFields.Fenced)));
        return [.. pools.Where((_, i) => fenced[i])];
    }

    /// <summary>
    /// Rebuilds fenced pools, as <c>SkuRecovery</c> rebuilds SKUs: after the settle time, waits until the Persisters have
    /// written everything Kafka holds (every acknowledged couponed order is then in MySQL), adopts every live order's coupon
    /// the pool forgot, then lifts the fence with available = total − held and the sequence past the high-water mark.
    /// </summary>
    public async Task RecoverAsync(IReadOnlyList<CouponKeys> fenced, CancellationToken cancellationToken)
    {
        var now = time.GetTimestamp();
        foreach (var pool in fenced)
        {
            _fencedSince.TryAdd(pool, now);
        }
        foreach (var gone in _fencedSince.Keys.Except(fenced).ToList())
        {
            _fencedSince.Remove(gone);
        }
        if (fenced.Count == 0)
        {
            return;
        }
        var settle = TimeSpan.FromMilliseconds(_settings.RecoverySettleMs) - fenced.Min(p => time.GetElapsedTime(_fencedSince[p]));
        if (settle > TimeSpan.Zero)
        {
            await Task.Delay(settle, time, cancellationToken);
        }
        if (kafka is not null)
        {
            var ends = await kafka.EndsAsync(cancellationToken);
            await kafka.WaitCommittedAsync(ends, TimeSpan.FromMilliseconds(_settings.RecoveryCatchUpTimeoutMs), cancellationToken);
        }
        foreach (var pool in fenced)
        {
            var campaign = await campaigns.GetAsync(pool.CampaignId, cancellationToken);
            if (campaign?.FindCoupon(pool.CouponId) is null)
            {
                LogNotInCatalog(logger, pool.Member);
                continue;
            }
            var adopted = 0;
            await foreach (var order in LiveOrdersAsync(pool, cancellationToken))
            {
                if (await AdoptAsync(pool, order))
                {
                    adopted++;
                }
            }
            var reply = await scripts.RecoverAsync(db, pool, await HighWaterAsync(pool, cancellationToken));
            if (reply.Outcome == RecoverOutcome.Unfenced)
            {
                var elapsed = time.GetElapsedTime(_fencedSince[pool]);
                metrics.Recovered(elapsed);
                LogRecovered(logger, pool.Member, adopted, reply.Available, reply.Sequence, (long)elapsed.TotalMilliseconds);
            }
            _fencedSince.Remove(pool);
        }
    }

    private async Task<PoolCheck> CheckPoolAsync(string campaignId, CampaignCoupon coupon, CancellationToken cancellationToken)
    {
        var pool = new CouponKeys(campaignId, coupon.CouponId);
        var grace = TimeSpan.FromMilliseconds(_settings.GraceMs);
        // Redis first: whatever MySQL shows after it may be newer, never older, than what the counts say.
        var counters = await scripts.CountersAsync(db, pool, grace);
        var totals = await DbTotalsAsync(pool, cancellationToken);
        if (!counters.Warmed)
        {
            var cold = new CouponLedger(campaignId, coupon.CouponId, false, coupon.Quantity, new CouponRedisSide(0, 0, 0), totals, 0, 0, counters.At, []);
            return new PoolCheck(cold);
        }
        var findings = new List<DriftFinding>();
        var inFlight = 0L;
        var stockOff = counters.Available != counters.Total - counters.Locked - counters.Redeemed;
        if (stockOff)
        {
            findings.Add(new DriftFinding(CouponDriftKind.StockMismatch, 0,
                (int)Math.Min(int.MaxValue, Math.Abs(counters.Available - (counters.Total - counters.Locked - counters.Redeemed)))));
        }
        var check = new PoolCheck(null!) { StockOff = stockOff, LiveDb = totals.Locked + totals.Redeemed };
        var agree = counters.Locked == totals.Locked && counters.Redeemed == totals.Redeemed && counters.Tried == 0;
        if (!agree)
        {
            await WalkAsync(pool, counters.At, grace, check, cancellationToken);
            findings.AddRange(check.Findings);
            inFlight = check.InFlight;
        }
        var redis = new CouponRedisSide(counters.Available, counters.Locked, counters.Redeemed);
        var ledger = new CouponLedger(campaignId, coupon.CouponId, true, counters.Total, redis, totals, inFlight,
            findings.Where(f => f.Kind != CouponDriftKind.RedeemLabel).Sum(f => (long)f.Units), counters.At, findings);
        return check with { Ledger = ledger };
    }

    /// <summary>Coupons of the pool on MySQL's orders, by the orders' status, summed over every shard.</summary>
    private async Task<CouponDbSide> DbTotalsAsync(CouponKeys pool, CancellationToken cancellationToken)
    {
        var rows = await shards.QueryEveryShardAsync<(string Status, long Count)>(
            "SELECT status, COUNT(*) FROM orders WHERE campaign_id = @campaignId AND coupon_id = @couponId GROUP BY status",
            new { campaignId = pool.CampaignId, couponId = pool.CouponId }, cancellationToken);
        long Count(string status) => rows.Where(r => r.Status == status).Sum(r => r.Count);
        return new CouponDbSide(Count(OrderStatus.PendingPayment), Count(OrderStatus.Paid), Count(OrderStatus.Cancelled));
    }

    /// <summary>
    /// The pool's locks page by page against their orders, then MySQL's live orders with the coupon against the locks.
    /// <paramref name="at"/> is Redis's clock before the walk: ages judged against it only look younger, never older.
    /// </summary>
    private async Task WalkAsync(CouponKeys pool, DateTimeOffset at, TimeSpan grace, PoolCheck check, CancellationToken cancellationToken)
    {
        var page = new Dictionary<long, CouponLock>();
        var seen = new HashSet<long>();
        await foreach (var entry in db.HashScanAsync(pool.Locks, pageSize: _settings.WalkPageSize))
        {
            var orderNo = SkuScripts.ParseOrderNo(entry.Name);
            if (seen.Add(orderNo))
            {
                page[orderNo] = CouponLock.Parse(entry.Value.ToString());
            }
            if (page.Count >= _settings.WalkPageSize)
            {
                await JudgeLocksAsync(page, at, grace, check, cancellationToken);
                page.Clear();
            }
        }
        await JudgeLocksAsync(page, at, grace, check, cancellationToken);

        await foreach (var order in LiveOrdersAsync(pool, cancellationToken, pageSize: _settings.WalkPageSize))
        {
            check.LiveOrders.Add(order);
        }
        foreach (var batch in check.LiveOrders.Chunk(_settings.WalkPageSize))
        {
            var values = await db.HashGetAsync(pool.Locks, [.. batch.Select(o => (RedisValue)o.OrderNo)]);
            for (var i = 0; i < batch.Length; i++)
            {
                var holds = !values[i].IsNull && CouponLock.Parse(values[i].ToString()).Holds;
                if (!holds && at - Utc(batch[i].CreatedAt) > WalkMargin)
                {
                    check.Unknown.Add(batch[i]);
                    check.Findings.Add(new DriftFinding(CouponDriftKind.UnknownToPool, batch[i].OrderNo, 1));
                }
            }
        }
        check.LiveOrders.Clear();
    }

    private async Task JudgeLocksAsync(Dictionary<long, CouponLock> locks, DateTimeOffset at, TimeSpan grace, PoolCheck check, CancellationToken cancellationToken)
    {
        var held = locks.Where(l => l.Value.Holds).ToList();
        if (held.Count == 0)
        {
            return;
        }
        var orders = await OrdersAsync(held.Select(l => l.Key), cancellationToken);
        foreach (var (orderNo, l) in held)
        {
            var age = at - DateTimeOffset.FromUnixTimeMilliseconds(l.CreatedMs);
            if (!orders.TryGetValue(orderNo, out var order))
            {
                if (age < grace)
                {
                    check.InFlight++;
                }
                else if (l.State == CouponLock.Tried)
                {
                    check.Orphans.Add(orderNo);
                    check.Findings.Add(new DriftFinding(CouponDriftKind.Orphan, orderNo, 1));
                }
                else
                {
                    check.Findings.Add(new DriftFinding(l.State == CouponLock.Redeemed ? CouponDriftKind.Conflict : CouponDriftKind.LostEvent, orderNo, 1));
                }
                continue;
            }
            switch (order.Status)
            {
                case OrderStatus.Cancelled when l.State == CouponLock.Redeemed:
                    check.Findings.Add(new DriftFinding(CouponDriftKind.Conflict, orderNo, 1));
                    break;
                case OrderStatus.Cancelled when at - Utc(order.UpdatedAt) < grace:
                    check.InFlight++;
                    break;
                case OrderStatus.Cancelled:
                    check.Unreleased.Add(orderNo);
                    check.Findings.Add(new DriftFinding(CouponDriftKind.Unreleased, orderNo, 1));
                    break;
                case OrderStatus.Paid when l.State != CouponLock.Redeemed:
                    check.Redeem.Add(orderNo);
                    check.Findings.Add(new DriftFinding(CouponDriftKind.RedeemLabel, orderNo, 0));
                    break;
                case OrderStatus.PendingPayment when l.State == CouponLock.Redeemed:
                    check.Findings.Add(new DriftFinding(CouponDriftKind.Conflict, orderNo, 1));
                    break;
                case OrderStatus.PendingPayment when l.State == CouponLock.Tried:
                    // Its order exists: the lock is no orphan (noted, so the sweep does not look at it).
                    check.Attach.Add(orderNo);
                    break;
            }
        }
    }

    private async Task<Dictionary<long, CouponOrder>> OrdersAsync(IEnumerable<long> orderNos, CancellationToken cancellationToken)
    {
        var rows = await Task.WhenAll(orderNos.GroupBy(shards.OfOrder).Select(async group =>
        {
            await using var connection = await shards.OpenAsync(group.Key, cancellationToken);
            return await connection.QueryAsync<CouponOrder>(new CommandDefinition(
                SelectOrders + " WHERE order_no IN @orderNos", new { orderNos = group.ToArray() }, cancellationToken: cancellationToken));
        }));
        return rows.SelectMany(r => r).ToDictionary(o => o.OrderNo);
    }

    /// <summary>MySQL's live orders (pending, paid) with the pool's coupon, shard by shard, in keyset pages.</summary>
    private async IAsyncEnumerable<CouponOrder> LiveOrdersAsync(
        CouponKeys pool, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken, int pageSize = 500)
    {
        for (var shard = 0; shard < shards.Count; shard++)
        {
            foreach (var status in LiveStatuses)
            {
                var after = 0L;
                while (true)
                {
                    List<CouponOrder> page;
                    await using (var connection = await shards.OpenAsync(shard, cancellationToken))
                    {
                        page = [.. await connection.QueryAsync<CouponOrder>(new CommandDefinition(
                            SelectOrders + " WHERE campaign_id = @campaignId AND coupon_id = @couponId AND status = @status AND order_no > @after ORDER BY order_no LIMIT @pageSize",
                            new { campaignId = pool.CampaignId, couponId = pool.CouponId, status, after, pageSize }, cancellationToken: cancellationToken))];
                    }
                    foreach (var order in page)
                    {
                        yield return order;
                    }
                    if (page.Count < pageSize)
                    {
                        break;
                    }
                    after = page[^1].OrderNo;
                }
            }
        }
    }

    private async Task<Dictionary<string, int>> RepairAsync(CouponKeys pool, CampaignCoupon coupon, PoolCheck check, CancellationToken cancellationToken)
    {
        var repairs = new Dictionary<string, int>();
        void Count(string kind, int count)
        {
            if (count > 0)
            {
                repairs[kind] = repairs.GetValueOrDefault(kind) + count;
                metrics.Repaired(kind, count);
            }
        }

        // Never give out a coupon twice: coupons of live orders the pool forgot are held again before anything goes back.
        foreach (var order in check.Unknown)
        {
            if (await AdoptAsync(pool, order))
            {
                Count(CouponDriftKind.UnknownToPool, 1);
            }
        }
        var swept = await sweeper.ResolveAsync(pool, check.Orphans, cancellationToken);
        Count(CouponDriftKind.Orphan, swept.Cancelled);
        foreach (var orderNo in check.Unreleased)
        {
            if (await scripts.CancelAsync(db, pool, orderNo) == CouponCancelOutcome.Released)
            {
                Count(CouponDriftKind.Unreleased, 1);
            }
        }
        foreach (var orderNo in check.Redeem)
        {
            if (await scripts.RedeemAsync(db, pool, orderNo) == CouponRedeemOutcome.Redeemed)
            {
                Count(CouponDriftKind.RedeemLabel, 1);
            }
        }
        foreach (var orderNo in check.Attach)
        {
            await scripts.AttachAsync(db, pool, orderNo);
        }
        if (check.StockOff)
        {
            if (await scripts.RestockAsync(db, pool, Math.Max(0, coupon.Quantity - check.LiveDb)) is { } restock && restock.Before != restock.After)
            {
                Count(CouponDriftKind.StockMismatch, 1);
                LogRestocked(logger, pool.Member, restock.Before, restock.After);
            }
        }
        return repairs;
    }

    private async Task<bool> AdoptAsync(CouponKeys pool, CouponOrder order)
    {
        var shortOf = await scripts.AdoptAsync(db, pool, order.OrderNo, order.UserId, order.SkuId, Money.ToMinor(order.Discount),
            Utc(order.CreatedAt).ToUnixTimeMilliseconds(), order.Status == OrderStatus.Paid, order.IdempotencyKey);
        if (shortOf is not { } over)
        {
            return false;
        }
        LogAdopted(logger, order.OrderNo, pool.Member);
        if (over)
        {
            metrics.DriftFound(CouponDriftKind.OverIssued, 1);
            LogOverIssued(logger, order.OrderNo, pool.Member);
        }
        return true;
    }

    private static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));

    /// <summary>An order with a coupon, as the comparison reads it.</summary>
    private sealed record CouponOrder(long OrderNo, long UserId, long SkuId, string Status, decimal Discount, DateTime CreatedAt, DateTime UpdatedAt, string IdempotencyKey);

    /// <summary>What one check found: the ledger to show, and what a repair acts on.</summary>
    private sealed record PoolCheck(CouponLedger Ledger)
    {
        public bool StockOff { get; init; }

        public long LiveDb { get; init; }

        public long InFlight { get; set; }

        public List<DriftFinding> Findings { get; } = [];

        public List<CouponOrder> Unknown { get; } = [];

        public List<CouponOrder> LiveOrders { get; } = [];

        public List<long> Orphans { get; } = [];

        public List<long> Unreleased { get; } = [];

        public List<long> Redeem { get; } = [];

        public List<long> Attach { get; } = [];

        public bool NeedsRepair => Ledger.Warmed && (Ledger.Drift > 0 || Redeem.Count > 0 || Attach.Count > 0);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Coupon reconciler: {Pool} drift {Before}; repaired [{Repairs}]; drift now {After}")]
    private static partial void LogPool(ILogger logger, string pool, long before, string repairs, long after);

    [LoggerMessage(Level = LogLevel.Error, Message = "Coupon reconciler: pool {Pool} fenced: its Redis sequence {Sequence} is below {HighWater}, the highest MySQL persisted")]
    private static partial void LogFencedBehind(ILogger logger, string pool, long sequence, long highWater);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Coupon reconciler: the coupon of order {OrderNo} was unknown to {Pool}; it is held again")]
    private static partial void LogAdopted(ILogger logger, long orderNo, string pool);

    [LoggerMessage(Level = LogLevel.Error, Message = "Coupon reconciler: {Pool} had no coupon left for order {OrderNo}: one coupon too many was given out; an operator must resolve it")]
    private static partial void LogOverIssued(ILogger logger, long orderNo, string pool);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Coupon reconciler: available coupons of {Pool} set from {Before} to {After}, total minus those its locks hold")]
    private static partial void LogRestocked(ILogger logger, string pool, long before, long after);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Recovery: coupon pool {Pool} rebuilt ({Adopted} forgotten coupon(s) adopted), {Available} available, sequence {Sequence}, after {ElapsedMs} ms")]
    private static partial void LogRecovered(ILogger logger, string pool, int adopted, long available, long sequence, long elapsedMs);

    [LoggerMessage(Level = LogLevel.Error, Message = "Recovery: coupon pool {Pool} is fenced but not in the catalog; it stays fenced until an operator looks")]
    private static partial void LogNotInCatalog(ILogger logger, string pool);
}
