using System.Collections.Concurrent;
using System.Globalization;
using Dapper;
using FlashSale.Engine.Buckets;
using FlashSale.Engine.Campaigns;
using FlashSale.Engine.Lifecycle;
using FlashSale.Engine.Orders;
using FlashSale.Engine.Redis;
using FlashSale.Engine.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace FlashSale.Engine.Reconciliation;

/// <summary>
/// Compares each campaign SKU's Redis side with its orders in MySQL (<see cref="LedgerComparison"/>), and repairs
/// what drifted, without ever holding Redis for more than a few hundred microseconds: Redis decides the hot SKU on
/// one thread, and a whole ledger read in one command (a million entries) would stall every buyer behind it.
/// <para>
/// A check reads the SKU's running counts (sku-counters.lua: total, available, units reserved and sold; constant
/// time) and MySQL's units by status. The counts give the stock check (available = total − reserved − sold). Orders
/// are looked at only when the two sides' counts disagree (a sale in progress, or drift): the ledger is walked with
/// HSCAN, <see cref="ReconcilerOptions.WalkPageSize"/> entries a call or a few of its small shards pipelined, each page compared with its orders' rows in
/// their shards and with the SKU's pending marks (events not yet durable in Kafka); then MySQL's live orders of the
/// SKU are walked by order number, a page at a time, each page checked against the ledger with one HMGET. The walk is
/// not a snapshot: each page's Redis reads come before its MySQL reads, and every finding is confirmed by reading
/// its order again (Redis, then MySQL) before it is reported or repaired.
/// </para>
/// <para>
/// The loop (<see cref="ReconcileRoundAsync"/>) walks at most <see cref="ReconcilerOptions.WalkPagesPerRound"/> pages
/// of a SKU per round and goes on where it stopped in the next, so a round costs the same at 1,000 or 1,000,000
/// orders; the admin check and <c>warmup reconcile</c> walk everything at once (still page by page). Each repair is a
/// script that re-checks its condition atomically in Redis, so repairs are idempotent and several reconcilers may run at once.
/// </para>
/// <para>
/// A SKU split into stock buckets is checked bucket by bucket — each bucket's counts, ledger and pending marks against the
/// SKU's orders MySQL holds for that bucket (<c>orders.bucket</c>), each repaired in its own bucket — and reported as one
/// SKU: totals, stock, units and findings summed over its buckets. Its transfers between buckets are looked at too: one
/// still open after <see cref="ReconcilerOptions.TransferGraceMs"/> was left half-done (its initiator died between the
/// donor's step and the receiver's) and is reported as <see cref="DriftKind.UnfinishedTransfer"/>, then finished (or
/// undone) by the same idempotent steps (<see cref="StockTransfers.FinishAsync"/>).
/// </para>
/// </summary>
public sealed partial class Reconciler(
    IDatabase db,
    ShardDataSources shards,
    CatalogDataSource catalog,
    CampaignStore campaigns,
    OrderLifecycle lifecycle,
    SkuScripts scripts,
    ReconcilerMetrics metrics,
    IOptions<ReconcilerOptions> options,
    TimeProvider time,
    ILogger<Reconciler> logger,
    StockTransfers? stockTransfers = null)
{
    // Finishes transfers between stock buckets left half-done; the engine's own, or one of its own for a reconciler built by hand.
    private readonly StockTransfers _transfers = stockTransfers
        ?? new StockTransfers(db, scripts, Options.Create(new BucketOptions()), Microsoft.Extensions.Logging.Abstractions.NullLogger<StockTransfers>.Instance);

    /// <summary>
    /// A MySQL order younger than this at the check's start is left to the next walk. The ledger is read after MySQL,
    /// so even a young order missing from it is forgotten; the margin keeps the judgement clear of any read made
    /// before the order's decision. (Both instants are the Redis server's clock: created_at is the TIME the
    /// reservation script read.)
    /// </summary>
    private static readonly TimeSpan WalkMargin = TimeSpan.FromSeconds(1);

    /// <summary>The statuses whose orders hold units: the ones Redis must know.</summary>
    private static readonly string[] LiveStatuses = [OrderStatus.PendingPayment, OrderStatus.Paid];

    private const string SelectOrders = """
        SELECT order_no AS OrderNo, user_id AS UserId, quantity AS Quantity, amount AS Amount, status AS Status,
               payment_deadline AS PaymentDeadline, created_at AS CreatedAt, updated_at AS UpdatedAt,
               idempotency_key AS IdempotencyKey, coupon_id AS CouponId, discount AS Discount, coupon_seq AS CouponSeq
        FROM orders
        """;

    private readonly ReconcilerOptions _settings = options.Value;

    // Where the loop's walk of each SKU stopped: the next round goes on from there.
    private readonly ConcurrentDictionary<SkuKeys, WalkCursor> _cursors = new();

    // The loop's last count of each SKU's orders in MySQL, with both sides' running counters as they were then.
    private readonly ConcurrentDictionary<SkuKeys, CountedTotals> _counted = new();

    // The decision sequence each SKU had at the loop's last round: one that moved since is selling.
    private readonly ConcurrentDictionary<SkuKeys, long> _sequences = new();

    /// <summary>The ledger of one campaign SKU, or null when the catalog has no such SKU. Read-only; walks every order that needs it.</summary>
    public async Task<SkuLedger?> CheckAsync(string campaignId, long skuId, CancellationToken cancellationToken)
    {
        var campaign = await campaigns.GetAsync(campaignId, cancellationToken);
        var sku = campaign?.FindSku(skuId);
        if (sku is null)
        {
            return null;
        }
        if (sku.Buckets == 1)
        {
            return (await CheckSkuAsync(new SkuKeys(campaign!.CampaignId, skuId), sku, WalkCursor.Whole(), cancellationToken)).Ledger;
        }
        var parts = new List<SkuLedger>(sku.Buckets);
        foreach (var bucket in new SkuKeys(campaign!.CampaignId, skuId).AllBuckets(sku.Buckets))
        {
            parts.Add((await CheckSkuAsync(bucket, sku, WalkCursor.Whole(), cancellationToken)).Ledger);
        }
        return Combine(sku, parts, await TransfersAsync(new SkuKeys(campaign.CampaignId, skuId), sku.Buckets));
    }

    /// <summary>
    /// Checks every SKU of the campaign, walking all their orders, and, with <paramref name="repair"/>, repairs what it
    /// found and checks again. A repairing run records the drift it found and each repair as it is made in the engine's
    /// metrics, so a run that fails half-way still counts what it did.
    /// </summary>
    public Task<IReadOnlyList<SkuReconciliation>> ReconcileAsync(
        CampaignDefinition campaign, bool repair, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
        => ReconcileSkusAsync(campaign, repair, budgeted: false, progress, cancellationToken);

    /// <summary>
    /// One round of the loop over the campaign: like a repairing <see cref="ReconcileAsync"/>, but each SKU's walk takes
    /// at most <see cref="ReconcilerOptions.WalkPagesPerRound"/> pages and resumes in the next round, and the check
    /// after the repairs reads the counts only.
    /// </summary>
    public Task<IReadOnlyList<SkuReconciliation>> ReconcileRoundAsync(CampaignDefinition campaign, CancellationToken cancellationToken)
        => ReconcileSkusAsync(campaign, repair: true, budgeted: true, progress: null, cancellationToken);

    private async Task<IReadOnlyList<SkuReconciliation>> ReconcileSkusAsync(
        CampaignDefinition campaign, bool repair, bool budgeted, IProgress<int>? progress, CancellationToken cancellationToken)
    {
        var results = new List<SkuReconciliation>(campaign.Skus.Count);
        foreach (var sku in campaign.Skus)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var home = new SkuKeys(campaign.CampaignId, sku.SkuId);
            results.Add(sku.Buckets == 1
                ? await ReconcilePartAsync(home, sku, repair, budgeted, cancellationToken)
                : await ReconcileBucketsAsync(home, sku, repair, budgeted, cancellationToken));
            progress?.Report(1);
        }
        return results;
    }

    /// <summary>One SKU that is not split, or one bucket of a split SKU (then its counts, ledger and orders alone).</summary>
    private async Task<SkuReconciliation> ReconcilePartAsync(SkuKeys keys, CampaignSku sku, bool repair, bool budgeted, CancellationToken cancellationToken)
    {
        if (repair)
        {
            await FenceIfBehindAsync(keys, cancellationToken);
            await CountIfUncountedAsync(keys);
        }
        var cursor = budgeted ? _cursors.GetOrAdd(keys, _ => WalkCursor.Resumable(_settings.WalkPagesPerRound)).ForRound() : WalkCursor.Whole();
        var before = await CheckSkuAsync(keys, sku, cursor, cancellationToken, loop: budgeted);
        if (repair)
        {
            foreach (var kind in before.Ledger.Findings.GroupBy(f => f.Kind))
            {
                metrics.DriftFound(kind.Key, kind.Sum(f => (long)f.Units));
            }
            if (before.OutboxHasEntries)
            {
                // An outbox with entries must be on the relay's list, also when the relay pruned the SKU after its campaign ended.
                await db.SetAddAsync(RedisKeyspace.LiveSkus, keys.Member);
            }
        }
        if (!repair || !before.NeedsRepair)
        {
            return new SkuReconciliation(before.Ledger, new Dictionary<string, int>(), before.Ledger);
        }
        var repairs = await RepairAsync(keys, sku, before, cancellationToken);
        var after = budgeted ? AfterCounts(before, await CheckSkuAsync(keys, sku, WalkCursor.CountsOnly(), cancellationToken))
            : await CheckSkuAsync(keys, sku, WalkCursor.Whole(), cancellationToken);
        return new SkuReconciliation(before.Ledger, repairs, after.Ledger);
    }

    /// <summary>
    /// A SKU split into buckets: a rollback found in one bucket fences them all; each bucket is reconciled as a SKU of its
    /// own; transfers left half-done are finished; and the SKU is reported as one.
    /// </summary>
    private async Task<SkuReconciliation> ReconcileBucketsAsync(SkuKeys home, CampaignSku sku, bool repair, bool budgeted, CancellationToken cancellationToken)
    {
        var all = home.AllBuckets(sku.Buckets);
        var parts = new List<SkuReconciliation>(all.Length);
        foreach (var bucket in all)
        {
            parts.Add(await ReconcilePartAsync(bucket, sku, repair, budgeted, cancellationToken));
        }
        if (repair && await AnyFencedAsync(all))
        {
            await FenceBucketsAsync(all, "a bucket of the SKU is fenced");
        }
        var open = await TransfersAsync(home, sku.Buckets);
        var before = Combine(sku, [.. parts.Select(p => p.Before)], open);
        var repairs = parts.SelectMany(p => p.Repairs).GroupBy(r => r.Key).ToDictionary(g => g.Key, g => g.Sum(r => r.Value));
        if (!repair)
        {
            return new SkuReconciliation(before, repairs, before);
        }
        var stale = open.Where(t => t.Stale).ToList();
        if (stale.Count > 0)
        {
            metrics.DriftFound(DriftKind.UnfinishedTransfer, stale.Sum(t => (long)t.Transfer.Units));
            foreach (var (donor, transfer, _) in stale)
            {
                var landed = await _transfers.FinishAsync(all[donor], transfer);
                LogTransferFinished(logger, transfer.Id, transfer.Units, all[donor].Member, all[transfer.ToBucket].Member, landed);
            }
            open = await TransfersAsync(home, sku.Buckets);
            // Finished (landed, or given back): no longer open. One whose bucket is fenced stays open for recovery.
            var finished = stale.Count(t => !open.Any(o => o.Transfer.Id == t.Transfer.Id));
            if (finished > 0)
            {
                repairs[DriftKind.UnfinishedTransfer] = finished;
                metrics.Repaired(DriftKind.UnfinishedTransfer, finished);
            }
        }
        var after = stale.Count == 0 && parts.All(p => ReferenceEquals(p.Before, p.After))
            ? before
            : Combine(sku, [.. parts.Select(p => p.After)], open);
        return new SkuReconciliation(before, repairs, after);
    }

    /// <summary>
    /// The transfers every bucket gave units to and has not closed, each with its donor and whether it is older than the
    /// grace period (judged on the Redis clock): a young one is on its way, an old one was left half-done.
    /// </summary>
    private async Task<List<(int Donor, OpenTransfer Transfer, bool Stale)>> TransfersAsync(SkuKeys home, int buckets)
    {
        var all = home.AllBuckets(buckets);
        var open = await Task.WhenAll(all.Select(b => SkuScripts.OpenTransfersAsync(db, b)));
        if (open.All(o => o.Count == 0))
        {
            return [];
        }
        var clock = (RedisResult[])(await db.ExecuteAsync("TIME"))!;
        var nowMs = ((long)clock[0] * 1000) + ((long)clock[1] / 1000);
        var grace = _settings.TransferGraceMs;
        return [.. open.SelectMany((transfers, donor) => transfers.Select(t => (donor, t, nowMs - t.AtMs >= grace)))];
    }

    /// <summary>
    /// A split SKU's ledger from its buckets' (each checked on its own): the SKU's stock as the catalog defines it, both
    /// sides summed, and the units of open transfers — in flight while young, drift once older than the grace period.
    /// </summary>
    private static SkuLedger Combine(CampaignSku sku, List<SkuLedger> parts, List<(int Donor, OpenTransfer Transfer, bool Stale)> open)
    {
        var findings = parts.SelectMany(p => p.Findings)
            .Concat(open.Where(t => t.Stale).Select(t => new DriftFinding(DriftKind.UnfinishedTransfer, 0, t.Transfer.Units)))
            .ToList();
        return new SkuLedger(
            parts[0].CampaignId,
            sku.SkuId,
            parts.All(p => p.Warmed),
            sku.Stock,
            new RedisLedgerSide(parts.Sum(p => p.Redis.Available), parts.Sum(p => p.Redis.Reserved), parts.Sum(p => p.Redis.Sold)),
            new DbLedgerSide(parts.Sum(p => p.Db.Pending), parts.Sum(p => p.Db.Paid), parts.Sum(p => p.Db.Cancelled)),
            parts.Sum(p => p.InFlight) + open.Where(t => !t.Stale).Sum(t => (long)t.Transfer.Units),
            findings.Sum(f => (long)f.Units),
            parts.Min(p => p.CheckedAt),
            findings);
    }

    private async Task<bool> AnyFencedAsync(SkuKeys[] buckets)
        => (await Task.WhenAll(buckets.Select(b => db.HashExistsAsync(b.Meta, MetaFields.Fenced)))).Any(fenced => fenced);

    /// <summary>Fences every bucket of a SKU (those fenced already keep their reason): a rollback in one fences them all until recovery.</summary>
    public async Task FenceBucketsAsync(IReadOnlyList<SkuKeys> buckets, string reason)
    {
        foreach (var bucket in buckets)
        {
            await scripts.FenceAsync(db, bucket, reason);
        }
    }

    /// <summary>
    /// The loop's check after its repairs reads the counts only (walking the same pages again would double a round's
    /// cost); the conflicts it found before, which no repair touches, are still there.
    /// </summary>
    private static SkuCheck AfterCounts(SkuCheck before, SkuCheck counts)
    {
        var findings = counts.Ledger.Findings.Concat(before.Ledger.Findings.Where(f => f.Kind == DriftKind.Conflict)).ToList();
        return new SkuCheck { Ledger = counts.Ledger with { Findings = findings, Drift = findings.Sum(f => (long)f.Units) } };
    }

    /// <summary>
    /// A SKU loaded before the running counts existed has none: counts its ledger once, page by page. While a sale
    /// moves its ledger the count does not take, and the stock is not judged (never judged against a guess); the next round tries again.
    /// </summary>
    private async Task CountIfUncountedAsync(SkuKeys keys)
    {
        var fields = await db.HashGetAsync(keys.Meta, [MetaFields.Total, MetaFields.Counted]);
        if (fields[0].IsNull || !fields[1].IsNull)
        {
            return;
        }
        if (!await scripts.CountLedgerAsync(db, keys))
        {
            LogNotCounted(logger, keys.CampaignId, keys.SkuId);
        }
    }

    /// <summary>
    /// Forgets what the loop kept of every SKU outside <paramref name="campaigns"/> (where its walk stopped, its last count,
    /// its sequence), so a Persister that runs for months keeps only the SKUs still in the loop's scope.
    /// </summary>
    public void ForgetAllBut(IReadOnlyCollection<CampaignDefinition> campaigns)
    {
        var kept = campaigns.Select(c => c.CampaignId).ToHashSet(StringComparer.Ordinal);
        Forget(_cursors);
        Forget(_counted);
        Forget(_sequences);

        void Forget<T>(ConcurrentDictionary<SkuKeys, T> memory)
        {
            foreach (var sku in memory.Keys.Where(k => !kept.Contains(k.CampaignId)))
            {
                memory.TryRemove(sku, out _);
            }
        }
    }

    /// <summary>The campaigns the loop looks after: those that have not ended, or ended within the look-back.</summary>
    public async Task<IReadOnlyList<CampaignDefinition>> ActiveCampaignsAsync(CancellationToken cancellationToken)
    {
        var ids = await campaigns.ListEndingAfterAsync(time.GetUtcNow() - TimeSpan.FromHours(_settings.LookbackHours), cancellationToken);
        var found = new List<CampaignDefinition>(ids.Count);
        foreach (var id in ids)
        {
            if (await campaigns.GetAsync(id, cancellationToken) is { } campaign)
            {
                found.Add(campaign);
            }
        }
        return found;
    }

    /// <summary>
    /// The highest decision sequence of the SKU that any shard has persisted (0 when none). Every persisted sequence
    /// was decided before it was persisted, so a Redis that did not forget anything is never below it.
    /// </summary>
    /// <remarks>Per bucket for a SKU split into buckets (each decides with a sequence of its own); bucket 0 is every other SKU.</remarks>
    public async Task<long> HighWaterAsync(SkuKeys sku, CancellationToken cancellationToken)
    {
        var marks = await shards.QueryEveryShardAsync<long>(
            "SELECT seq FROM sku_high_water WHERE campaign_id = @campaignId AND sku_id = @skuId AND bucket = @bucket",
            new { campaignId = sku.CampaignId, skuId = sku.SkuId, bucket = sku.Bucket }, cancellationToken);
        return marks.Count == 0 ? 0 : marks.Max();
    }

    /// <summary>
    /// Fences the SKU when Redis's decision sequence is below the persisted high-water mark: Redis forgot decisions
    /// that MySQL holds. MySQL is read first, so a decision made between the two reads cannot look like a loss.
    /// </summary>
    public async Task<bool> FenceIfBehindAsync(SkuKeys sku, CancellationToken cancellationToken)
    {
        var highWater = await HighWaterAsync(sku, cancellationToken);
        if (highWater == 0)
        {
            return false;
        }
        var sequence = await db.HashGetAsync(sku.Meta, MetaFields.Sequence);
        var current = sequence.IsNull ? 0 : (long)sequence;
        if (current >= highWater
            || await scripts.FenceAsync(db, sku, $"behind: sequence {current}, MySQL persisted {highWater}") != FenceOutcome.Fenced)
        {
            return false;
        }
        LogFencedBehind(logger, sku.CampaignId, sku.SkuId, current, highWater);
        return true;
    }

    /// <summary>
    /// Recovery's adoption: puts every live order MySQL holds for the fenced SKU and its ledger does not know back
    /// into the ledger. Fenced, the SKU decides nothing, so no order is too young to judge: none is left for later.
    /// <paramref name="keys"/> is one bucket of a split SKU: its orders only, into its ledger.
    /// </summary>
    public async Task<int> AdoptForgottenAsync(SkuKeys keys, CampaignSku sku, CancellationToken cancellationToken)
    {
        var counters = await scripts.SkuCountersAsync(db, keys);
        var walk = new LedgerWalk();
        var cursor = WalkCursor.Whole();
        cursor.SkipLedger();
        await WalkAsync(db, keys, sku, counters.At, cursor, walk, TimeSpan.Zero, cancellationToken);
        var forgotten = walk.Unknown.ToList();
        if (forgotten.Count > 0)
        {
            metrics.DriftFound(DriftKind.UnknownToRedis, forgotten.Sum(o => (long)o.Quantity));
        }
        var adopted = 0;
        foreach (var order in forgotten)
        {
            if (await AdoptAsync(db, keys, order))
            {
                metrics.Repaired(DriftKind.UnknownToRedis, 1);
                adopted++;
            }
        }
        return adopted;
    }

    private async Task<bool> AdoptAsync(IDatabase db, SkuKeys keys, DbOrder order)
    {
        var record = new LedgerRecord(order.UserId, order.Quantity, Money.ToMinor(order.Amount),
            Milliseconds(order.CreatedAt), Milliseconds(order.PaymentDeadline), OrderStates.ToLedger(order.Status));
        if (order.CouponId is { } couponId)
        {
            // Its coupon beside the ledger first (MySQL is the truth), so a replay of the adopted order answers with it.
            await db.HashSetAsync(CouponKeyspace.CouponsOf(keys), order.OrderNo, new CouponUse(couponId, Money.ToMinor(order.Discount), order.CouponSeq).ToString());
        }
        var reply = await scripts.AdoptAsync(db, keys, order.OrderNo, record, order.IdempotencyKey);
        if (reply.Outcome != AdoptOutcome.Adopted)
        {
            return false;
        }
        LogAdopted(logger, order.OrderNo, keys.CampaignId, keys.SkuId, order.Quantity);
        if (reply.Oversold > 0)
        {
            LogOversold(logger, order.OrderNo, keys.CampaignId, keys.SkuId, reply.Oversold);
        }
        return true;
    }

    /// <summary>
    /// Checks the SKU <paramref name="keys"/>, or one bucket of a split SKU: its counts and ledger against the orders that
    /// bucket decided, and its stock against the bucket's own total (its share, as transfers moved it).
    /// </summary>
    /// <param name="loop">A round of the loop: MySQL's orders are counted only when they may have moved (<see cref="LoopTotalsAsync"/>).</param>
    private async Task<SkuCheck> CheckSkuAsync(SkuKeys keys, CampaignSku sku, WalkCursor cursor, CancellationToken cancellationToken, bool loop = false)
    {
        // Redis first: whatever MySQL shows after it may be newer, never older, than what the counts say.
        var counters = await scripts.SkuCountersAsync(db, keys);
        var (totals, source) = loop
            ? await LoopTotalsAsync(keys, sku, counters, cursor, cancellationToken)
            : (await DbTotalsAsync(keys, sku.Buckets > 1, cancellationToken), DbTotalsSource.Exact);
        var walk = LedgerWalk.NotNeeded();
        if (LedgerComparison.WalkNeeded(counters, totals))
        {
            walk = new LedgerWalk();
            await WalkAsync(db, keys, sku, counters.At, cursor, walk, WalkMargin, cancellationToken, loop);
        }
        var stock = sku.Buckets > 1 ? (int)counters.Total : sku.Stock;
        var check = LedgerComparison.Compare(keys.CampaignId, sku.SkuId, stock, counters, totals, walk);
        return check with { Ledger = check.Ledger with { DbTotals = source } };
    }

    /// <summary>
    /// A loop round's MySQL totals of the SKU. Counting its orders is one GROUP BY over all of them on every shard, the one
    /// cost of a round that grows with sales (a second or more at a million orders), so a round counts only when they may
    /// have moved: it reuses the last count while neither Redis's counts nor the catalog's running counters moved since
    /// (every persisted order, payment and cancel adds to those in its own transaction); while the SKU is selling (its
    /// decision sequence moved since the last round), when the counts disagree by the orders on their way whatever
    /// MySQL holds, it takes the running counters, and its walk takes <see cref="ReconcilerOptions.WalkPagesPerSellingRound"/>
    /// pages at most. Either way the orders are counted again at least every <see cref="ReconcilerOptions.TotalsMaxAgeMs"/>,
    /// so a change that bypassed the counters is seen too. Totals only decide whether the orders are walked (and fill the
    /// report): every finding comes from the walk, and a restock counts the orders first.
    /// </summary>
    private async Task<(DbLedgerSide Totals, string Source)> LoopTotalsAsync(
        SkuKeys keys, CampaignSku sku, SkuCounters counters, WalkCursor cursor, CancellationToken cancellationToken)
    {
        var split = sku.Buckets > 1;
        var selling = _sequences.TryGetValue(keys, out var seen) && seen != counters.Sequence;
        _sequences[keys] = counters.Sequence;
        if (selling)
        {
            cursor.Limit(_settings.WalkPagesPerSellingRound);
        }
        var running = await RunningCountersAsync(keys, cancellationToken);
        var source = DbTotalsSource.Exact;
        if (_counted.TryGetValue(keys, out var last) && time.GetElapsedTime(last.At).TotalMilliseconds < _settings.TotalsMaxAgeMs)
        {
            if (last.Running == running && last.Redis == counters with { At = last.Redis.At, OutboxLength = last.Redis.OutboxLength })
            {
                source = DbTotalsSource.Unchanged;
            }
            else if (selling && !split)
            {
                // The catalog counts the SKU as a whole: a bucket's share of it is not there.
                source = DbTotalsSource.RunningCounters;
            }
        }
        metrics.Totals(source);
        switch (source)
        {
            case DbTotalsSource.Unchanged:
                return (last!.Totals, source);
            case DbTotalsSource.RunningCounters:
                return (running.AsDbSide(), source);
        }
        var counting = time.GetTimestamp();
        var totals = await DbTotalsAsync(keys, split, cancellationToken);
        _counted[keys] = new CountedTotals(counters, running, totals, time.GetTimestamp());
        // Counts of several SKUs fall due in the same round (all of them in a Persister's first): not back to back.
        await RestAsync(loop: true, counting, cancellationToken);
        return (totals, source);
    }

    /// <summary>The catalog's running counters of the SKU (all its buckets together); zeros before its first persisted order.</summary>
    private async Task<RunningCounters> RunningCountersAsync(SkuKeys keys, CancellationToken cancellationToken)
    {
        await using var connection = await catalog.OpenConnectionAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<RunningCounters>(new CommandDefinition(
            "SELECT reserved AS Reserved, sold AS Sold, released AS Released FROM campaign_sku_counters WHERE campaign_id = @campaignId AND sku_id = @skuId",
            new { campaignId = keys.CampaignId, skuId = keys.SkuId }, cancellationToken: cancellationToken));
    }

    /// <summary>Units ever reserved, sold and released by the SKU's persisted orders, as the counter loop last applied them.</summary>
    private readonly record struct RunningCounters(long Reserved, long Sold, long Released)
    {
        public DbLedgerSide AsDbSide() => new(Reserved - Sold - Released, Sold, Released);
    }

    /// <param name="At">A <see cref="TimeProvider.GetTimestamp"/> of the count.</param>
    private sealed record CountedTotals(SkuCounters Redis, RunningCounters Running, DbLedgerSide Totals, long At);

    /// <summary>Units of the SKU's orders by status, summed over every shard; of one bucket's orders when <paramref name="split"/>.</summary>
    private async Task<DbLedgerSide> DbTotalsAsync(SkuKeys keys, bool split, CancellationToken cancellationToken)
    {
        var rows = await shards.QueryEveryShardAsync<(string Status, long Units)>(
            "SELECT status, CAST(SUM(quantity) AS SIGNED) FROM orders WHERE campaign_id = @campaignId AND sku_id = @skuId"
                + (split ? " AND bucket = @bucket" : "") + " GROUP BY status",
            new { campaignId = keys.CampaignId, skuId = keys.SkuId, bucket = keys.Bucket }, cancellationToken);
        long Units(string status) => rows.Where(r => r.Status == status).Sum(r => r.Units);
        return new DbLedgerSide(Units(OrderStatus.PendingPayment), Units(OrderStatus.Paid), Units(OrderStatus.Cancelled));
    }

    /// <summary>
    /// Walks the ledger, then MySQL's live orders, from where <paramref name="cursor"/> stopped, for at most its page
    /// budget. <paramref name="at"/> is the Redis clock read before any of it: ages are judged against it, which can only
    /// make an order look younger (in flight) than it is, never older.
    /// </summary>
    /// <param name="loop">
    /// The loop's rounds: a reserved entry younger than the grace period is counted in flight without reading its order, as
    /// no judgement of it can be drift yet (missing from MySQL, or cancelled there, it is on its way; paid there, a paid
    /// label, which a later pass repairs once the counts show it). A sale's own ledger is mostly young entries, so its
    /// rounds read MySQL only for the old ones. And the walk rests between pages (<see cref="ReconcilerOptions.WalkPauseFactor"/>).
    /// </param>
    private async Task WalkAsync(
        IDatabase db, SkuKeys keys, CampaignSku sku, DateTimeOffset at, WalkCursor cursor, LedgerWalk walk, TimeSpan margin, CancellationToken cancellationToken,
        bool loop = false)
    {
        var pageSize = _settings.WalkPageSize;
        var grace = TimeSpan.FromMilliseconds(_settings.GraceMs);
        var pageStarted = 0L;
        var ledgerShards = await LedgerLayout.ShardsAsync(db, keys);
        while (!cursor.LedgerDone && cursor.TakePage())
        {
            await RestAsync(loop, pageStarted, cancellationToken);
            pageStarted = time.GetTimestamp();
            var records = await LedgerPageAsync(db, keys, ledgerShards, cursor, pageSize);
            if (loop)
            {
                var young = records.Where(r => r.Value.State == LedgerRecord.Reserved && at - DateTimeOffset.FromUnixTimeMilliseconds(r.Value.CreatedMs) < grace).ToList();
                walk.Add(young.Select(r => new OrderVerdict(r.Key, r.Value.State, r.Value.Quantity, Kind: null, InFlight: true, PaidLabel: false)));
                foreach (var (orderNo, _) in young)
                {
                    records.Remove(orderNo);
                }
            }
            if (records.Count > 0)
            {
                walk.Add(await JudgeAsync(db, keys, records, at, grace, cancellationToken));
            }
        }
        while (!cursor.DbDone(shards.Count) && cursor.TakePage())
        {
            await RestAsync(loop, pageStarted, cancellationToken);
            pageStarted = time.GetTimestamp();
            var status = LiveStatuses[cursor.Status];
            List<DbOrder> page;
            await using (var connection = await shards.OpenAsync(cursor.Shard, cancellationToken))
            {
                // Keyset pagination on (campaign_id, sku_id, status), whose index carries order_no: one range read a page.
                page = [.. await connection.QueryAsync<DbOrder>(new CommandDefinition(
                    SelectOrders + " WHERE campaign_id = @campaignId AND sku_id = @skuId AND status = @status AND order_no > @after"
                        + (sku.Buckets > 1 ? " AND bucket = @bucket" : "") + " ORDER BY order_no LIMIT @limit",
                    new { campaignId = keys.CampaignId, skuId = keys.SkuId, status, after = cursor.DbPosition, limit = pageSize, bucket = keys.Bucket },
                    cancellationToken: cancellationToken))];
            }
            cursor.DbPageRead(page.Count < pageSize ? null : page[^1].OrderNo, LiveStatuses.Length);
            if (page.Count == 0)
            {
                continue;
            }
            var values = await LedgerLayout.GetAsync(db, keys, ledgerShards, [.. page.Select(o => o.OrderNo)]);
            var inLedger = page.Where((_, i) => !values[i].IsNull).Select(o => o.OrderNo).ToHashSet();
            walk.AddUnknown(LedgerComparison.UnknownToRedis(page, inLedger, at, margin));
        }
        walk.Complete = cursor.LedgerDone && cursor.DbDone(shards.Count);
        if (walk.Complete)
        {
            cursor.Restart();
        }
    }

    /// <summary>
    /// One page of the ledger from where the cursor stands: HSCAN on the current hash and, pipelined beside it, on as many
    /// of the next shards as a page holds (each a small hash, which answers whole). A hash that has more to give ends the
    /// page there: the cursor stays in it, and what the pipeline read after it is left for the next page, so no entry is
    /// counted twice. Each command is bounded by the page size or by a shard's small size. A cursor left past the last
    /// hash (the SKU was loaded again from nothing, with fewer shards) finds the ledger done.
    /// </summary>
    private static async Task<Dictionary<long, LedgerRecord>> LedgerPageAsync(IDatabase db, SkuKeys keys, int shards, WalkCursor cursor, int pageSize)
    {
        var hashes = LedgerLayout.HashesOf(shards);
        var first = cursor.LedgerHash;
        if (first >= hashes)
        {
            cursor.LedgerPageRead(hashes - 1, 0, hashes);
            return [];
        }
        var count = Math.Min(hashes - first, Math.Max(1, pageSize / LedgerLayout.OrdersPerShard));
        var replies = await Task.WhenAll(Enumerable.Range(first, count).Select(h =>
            db.ExecuteAsync("HSCAN", LedgerLayout.KeyAt(keys, shards, h), h == first ? cursor.LedgerPosition : 0UL, "COUNT", pageSize)));
        var records = new Dictionary<long, LedgerRecord>();
        for (var i = 0; i < replies.Length; i++)
        {
            var reply = (RedisResult[])replies[i]!;
            var flat = (RedisResult[])reply[1]!;
            for (var j = 0; j < flat.Length; j += 2)
            {
                records[SkuScripts.ParseOrderNo((RedisValue)flat[j])] = LedgerRecord.Parse(flat[j + 1].ToString());
            }
            var next = ulong.Parse(reply[0].ToString(), NumberStyles.None, CultureInfo.InvariantCulture);
            cursor.LedgerPageRead(first + i, next, hashes);
            if (next != 0)
            {
                break;
            }
        }
        return records;
    }

    /// <summary>
    /// A loop round rests after each page of its walk and after each count of a SKU's orders, for
    /// <see cref="ReconcilerOptions.WalkPauseFactor"/> times as long as that took (<paramref name="started"/>: its
    /// <see cref="TimeProvider.GetTimestamp"/>; 0, before a walk's first page, is no rest).
    /// </summary>
    private async Task RestAsync(bool loop, long started, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (loop && started != 0 && _settings.WalkPauseFactor > 0)
        {
            // A delay waits whole milliseconds: a shorter rest is none.
            await Task.Delay(time.GetElapsedTime(started) * _settings.WalkPauseFactor, time, cancellationToken);
        }
    }

    /// <summary>Judges one ledger page against MySQL, and confirms what looks like drift with a fresh read of those orders.</summary>
    private async Task<IReadOnlyList<OrderVerdict>> JudgeAsync(
        IDatabase db, SkuKeys keys, Dictionary<long, LedgerRecord> records, DateTimeOffset at, TimeSpan grace, CancellationToken cancellationToken)
    {
        var verdicts = LedgerComparison.JudgeLedgerPage(await PageAsync(db, keys, records, at, grace), await OrdersAsync(records.Keys, cancellationToken), grace);
        var suspects = verdicts.Where(v => v.Kind is not null).Select(v => v.OrderNo).ToList();
        if (suspects.Count == 0)
        {
            return verdicts;
        }
        var again = await LedgerLayout.GetAsync(db, keys, suspects);
        var fresh = new Dictionary<long, LedgerRecord>(suspects.Count);
        for (var i = 0; i < suspects.Count; i++)
        {
            if (!again[i].IsNull)
            {
                fresh[suspects[i]] = LedgerRecord.Parse(again[i].ToString());
            }
        }
        var freshVerdicts = LedgerComparison.JudgeLedgerPage(await PageAsync(db, keys, fresh, at, grace), await OrdersAsync(fresh.Keys, cancellationToken), grace);
        return LedgerComparison.Confirm(verdicts, freshVerdicts);
    }

    /// <summary>
    /// The page's pending marks and re-publish times: only the page's own fields (HMGET), pipelined. A mark on an order
    /// older than the grace period is believed only if the outbox entry it names is still in the stream (one XRANGE of
    /// that id each): an entry that vanished before Kafka (deleted, or lost with a Redis restored from elsewhere) leaves
    /// its mark behind, and the order would otherwise look in flight for ever.
    /// </summary>
    private static async Task<LedgerPage> PageAsync(IDatabase db, SkuKeys keys, Dictionary<long, LedgerRecord> records, DateTimeOffset at, TimeSpan grace)
    {
        RedisValue[] fields = [.. records.Keys.Select(o => (RedisValue)o)];
        var pendingTask = db.HashGetAsync(keys.Pending, fields);
        var republishedTask = db.HashGetAsync(keys.Republished, fields);
        var (pending, republished) = (await pendingTask, await republishedTask);
        var republishedAt = new Dictionary<long, long>();
        var marked = new List<(long OrderNo, RedisValue EntryId)>();
        for (var i = 0; i < fields.Length; i++)
        {
            var orderNo = (long)fields[i];
            if (!republished[i].IsNull)
            {
                republishedAt[orderNo] = (long)republished[i];
            }
            if (!pending[i].IsNull)
            {
                marked.Add((orderNo, pending[i]));
            }
        }
        var young = marked.Where(m => at - DateTimeOffset.FromUnixTimeMilliseconds(
            Math.Max(records[m.OrderNo].CreatedMs, republishedAt.GetValueOrDefault(m.OrderNo))) < grace).ToList();
        var old = marked.Except(young).ToList();
        var entries = await Task.WhenAll(old.Select(m => db.StreamRangeAsync(keys.Outbox, m.EntryId, m.EntryId, count: 1)));
        var inOutbox = young.Select(m => m.OrderNo).Concat(old.Where((_, i) => entries[i].Length > 0).Select(m => m.OrderNo)).ToHashSet();
        return new LedgerPage(at, records, inOutbox, republishedAt);
    }

    /// <summary>MySQL's rows of these orders, each looked up by primary key on its own shard.</summary>
    private async Task<Dictionary<long, DbOrder>> OrdersAsync(IEnumerable<long> orderNos, CancellationToken cancellationToken)
    {
        var rows = await Task.WhenAll(orderNos.GroupBy(shards.OfOrder).Select(async group =>
        {
            await using var connection = await shards.OpenAsync(group.Key, cancellationToken);
            return await connection.QueryAsync<DbOrder>(new CommandDefinition(
                SelectOrders + " WHERE order_no IN @orderNos", new { orderNos = group.ToArray() }, cancellationToken: cancellationToken));
        }));
        return rows.SelectMany(r => r).ToDictionary(o => o.OrderNo);
    }

    /// <summary>Repairs what the check of <paramref name="keys"/> (a SKU, or one bucket of a split SKU) found, in its own keys.</summary>
    private async Task<Dictionary<string, int>> RepairAsync(SkuKeys keys, CampaignSku sku, SkuCheck check, CancellationToken cancellationToken)
    {
        var (campaignId, skuId) = (keys.CampaignId, keys.SkuId);
        var repairs = new Dictionary<string, int>();
        void Count(string kind, int count)
        {
            if (count > 0)
            {
                repairs[kind] = repairs.GetValueOrDefault(kind) + count;
                metrics.Repaired(kind, count);
            }
        }

        // Oversell prevention first: orders Redis forgot hold their units again before anything is given back.
        foreach (var order in check.UnknownToRedis)
        {
            if (await AdoptAsync(db, keys, order))
            {
                Count(DriftKind.UnknownToRedis, 1);
            }
        }

        if (check.Lost.Count > 0)
        {
            var keysByOrder = await IdempotencyKeysAsync(db, keys);
            foreach (var orderNo in check.Lost)
            {
                var key = keysByOrder.GetValueOrDefault(orderNo) ?? $"recovered-{orderNo}";
                if (await scripts.RepublishAsync(db, keys, orderNo, key))
                {
                    Count(DriftKind.LostEvent, 1);
                    LogRepublished(logger, orderNo, campaignId, skuId);
                }
            }
        }

        if (check.Unreleased.Count > 0)
        {
            var released = await lifecycle.ReleaseCancelledAsync(keys, check.Unreleased, cancellationToken);
            Count(DriftKind.UnreleasedCancel, released);
            LogReleased(logger, released, campaignId, skuId);
        }

        foreach (var orderNo in check.PaidLabels)
        {
            if (await scripts.MarkPaidAsync(db, keys, orderNo) == MarkPaidOutcome.Marked)
            {
                Count(DriftKind.PaidLabel, 1);
            }
        }

        if (check.StockOff)
        {
            // The total the check judged by: the SKU's, or a bucket's share of it; the units MySQL holds counted now if the
            // loop's round took them from an earlier count or the running counters.
            var live = check.LiveDbUnits;
            if (check.Ledger.DbTotals != DbTotalsSource.Exact)
            {
                var counted = await DbTotalsAsync(keys, sku.Buckets > 1, cancellationToken);
                live = counted.Pending + counted.Paid;
            }
            if (await scripts.RestockAsync(db, keys, Math.Max(0, check.Ledger.Total - live)) is { } restock && restock.Before != restock.After)
            {
                Count(DriftKind.StockMismatch, 1);
                LogRestocked(logger, campaignId, skuId, restock.Before, restock.After);
            }
        }

        foreach (var conflict in check.Ledger.Findings.Where(f => f.Kind is DriftKind.Conflict or DriftKind.Oversold))
        {
            LogLeftForOperator(logger, conflict.Kind, conflict.OrderNo, campaignId, skuId, conflict.Units);
        }

        if (repairs.ContainsKey(DriftKind.LostEvent))
        {
            await db.SetAddAsync(RedisKeyspace.LiveSkus, keys.Member);
        }
        return repairs;
    }

    /// <summary>
    /// Order number → Idempotency-Key: the keys the buyers' fields fold (<see cref="BuyerRecord"/>), and those beyond, in the
    /// SKU's idempotency hash ("userId:key" → order number).
    /// </summary>
    private async Task<Dictionary<long, string>> IdempotencyKeysAsync(IDatabase db, SkuKeys keys)
    {
        var byOrder = new Dictionary<long, string>();
        await foreach (var entry in db.HashScanAsync(keys.Users, pageSize: _settings.WalkPageSize))
        {
            foreach (var (key, orderNo) in BuyerRecord.Parse(entry.Value).Orders)
            {
                byOrder[orderNo] = key;
            }
        }
        await foreach (var entry in db.HashScanAsync(keys.Idempotency, pageSize: _settings.WalkPageSize))
        {
            var field = entry.Name.ToString();
            var colon = field.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && long.TryParse(entry.Value.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var orderNo))
            {
                byOrder[orderNo] = field[(colon + 1)..];
            }
        }
        return byOrder;
    }

    private static long Milliseconds(DateTime utc) => new DateTimeOffset(DateTime.SpecifyKind(utc, DateTimeKind.Utc)).ToUnixTimeMilliseconds();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reconciler: {CampaignId}/{SkuId} was loaded before the running counts of its ledger existed and its ledger moved while it was counted; its stock is not judged until a count takes")]
    private static partial void LogNotCounted(ILogger logger, string campaignId, long skuId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Reconciler: {CampaignId}/{SkuId} fenced: its Redis sequence {Sequence} is below {HighWater}, the highest MySQL persisted; Redis forgot decisions")]
    private static partial void LogFencedBehind(ILogger logger, string campaignId, long skuId, long sequence, long highWater);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reconciler: order {OrderNo} ({CampaignId}/{SkuId}, {Quantity} unit(s)) was unknown to Redis; its units are held again")]
    private static partial void LogAdopted(ILogger logger, long orderNo, string campaignId, long skuId, int quantity);

    [LoggerMessage(Level = LogLevel.Error, Message = "Reconciler: {Short} unit(s) of order {OrderNo} ({CampaignId}/{SkuId}) were sold again while Redis did not know the order: oversold, an operator must resolve it")]
    private static partial void LogOversold(ILogger logger, long orderNo, string campaignId, long skuId, int @short);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reconciler: reservation {OrderNo} ({CampaignId}/{SkuId}) never reached MySQL; re-published it")]
    private static partial void LogRepublished(ILogger logger, long orderNo, string campaignId, long skuId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reconciler: returned the units of {Count} cancelled order(s) of {CampaignId}/{SkuId} whose release never ran")]
    private static partial void LogReleased(ILogger logger, int count, string campaignId, long skuId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reconciler: stock of {CampaignId}/{SkuId} set from {Before} to {After}, total minus the units its ledger holds")]
    private static partial void LogRestocked(ILogger logger, string campaignId, long skuId, long before, long after);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reconciler: transfer {TransferId} ({Units} unit(s) from {Donor} to {Receiver}) was left half-done; finished it, {Landed} unit(s) landed now")]
    private static partial void LogTransferFinished(ILogger logger, string transferId, int units, string donor, string receiver, int landed);

    [LoggerMessage(Level = LogLevel.Error, Message = "Reconciler: {Kind} drift on order {OrderNo} of {CampaignId}/{SkuId} ({Units} unit(s)) cannot be repaired automatically")]
    private static partial void LogLeftForOperator(ILogger logger, string kind, long orderNo, string campaignId, long skuId, int units);
}
