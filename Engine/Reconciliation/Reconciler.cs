using System.Globalization;
using Dapper;
using FlashSale.Engine.Campaigns;
using FlashSale.Engine.Observability;
using FlashSale.Engine.Orders;
using FlashSale.Engine.Pipeline;
using FlashSale.Engine.Redis;
using FlashSale.Engine.Reservations;
using FlashSale.Engine.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace FlashSale.Engine.Reconciliation;

/// <summary>
/// Compares each campaign SKU's Redis side (stock, ledger, outbox) with its orders in MySQL, and repairs
/// what drifted. Redis is read in one script, so its stock, ledger and outbox are seen at one instant;
/// MySQL is read just after. Everything that may legitimately be on its way between the two (a young
/// reservation not yet persisted, an entry still in the outbox, a fresh cancel whose release is running,
/// an order decided after the Redis snapshot) counts as in flight, never as drift, so the check is
/// safe while a sale runs at full speed. Each repair is a script that re-checks its condition atomically
/// in Redis, so repairs are idempotent and several reconcilers may run at once.
/// </summary>
public sealed partial class Reconciler(
    IConnectionMultiplexer redis,
    ShardDataSources shards,
    CampaignStore campaigns,
    OrderLifecycle lifecycle,
    EngineMetrics metrics,
    IOptions<ReconcilerOptions> options,
    TimeProvider time,
    ILogger<Reconciler> logger)
{
    /// <summary>
    /// An order MySQL holds that is younger than this at the Redis snapshot may have been decided after it;
    /// it is judged in the next round. (Both instants are the Redis server's clock: the order's created_at
    /// is the TIME the reservation script read.)
    /// </summary>
    private static readonly TimeSpan SnapshotMargin = TimeSpan.FromSeconds(1);

    private readonly ReconcilerOptions _settings = options.Value;

    /// <summary>The ledger of one campaign SKU, or null when the catalog has no such SKU.</summary>
    public async Task<SkuLedger?> CheckAsync(string campaignId, long skuId, CancellationToken cancellationToken)
    {
        var campaign = await campaigns.GetAsync(campaignId, cancellationToken);
        var sku = campaign?.FindSku(skuId);
        return sku is null ? null : (await CheckSkuAsync(campaign!.CampaignId, sku, cancellationToken)).Ledger;
    }

    /// <summary>
    /// Checks every SKU of the campaign and, with <paramref name="repair"/>, repairs what it found and checks again.
    /// A repairing run records the drift it found and each repair as it is made in the engine's metrics, so a
    /// run that fails half-way still counts what it did.
    /// </summary>
    public async Task<IReadOnlyList<SkuReconciliation>> ReconcileAsync(
        CampaignDefinition campaign, bool repair, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        var results = new List<SkuReconciliation>(campaign.Skus.Count);
        foreach (var sku in campaign.Skus)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var before = await CheckSkuAsync(campaign.CampaignId, sku, cancellationToken);
            if (repair)
            {
                foreach (var kind in before.Ledger.Findings.GroupBy(f => f.Kind))
                {
                    metrics.DriftFound(kind.Key, kind.Sum(f => (long)f.Units));
                }
                if (before.OutboxHasEntries)
                {
                    // An outbox with entries must be on the relay's list, also when the relay pruned the SKU after its campaign ended.
                    await redis.GetDatabase().SetAddAsync(SkuKeys.LiveSkus, new SkuKeys(campaign.CampaignId, sku.SkuId).Member);
                }
            }
            if (!repair || !before.NeedsRepair)
            {
                results.Add(new SkuReconciliation(before.Ledger, new Dictionary<string, int>(), before.Ledger));
            }
            else
            {
                var repairs = await RepairAsync(campaign.CampaignId, sku, before, cancellationToken);
                var after = await CheckSkuAsync(campaign.CampaignId, sku, cancellationToken);
                results.Add(new SkuReconciliation(before.Ledger, repairs, after.Ledger));
            }
            progress?.Report(1);
        }
        return results;
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

    private async Task<SkuCheck> CheckSkuAsync(string campaignId, CampaignSku sku, CancellationToken cancellationToken)
    {
        var keys = new SkuKeys(campaignId, sku.SkuId);
        var snapshot = (RedisResult[])(await LuaScripts.LedgerSnapshot.EvaluateAsync(redis.GetDatabase(), metrics, [keys.Meta, keys.Ledger, keys.Outbox, keys.Republished]))!;
        var orders = await ReadOrdersAsync(campaignId, sku.SkuId, cancellationToken);
        var now = DateTimeOffset.FromUnixTimeMilliseconds((long)snapshot[0]);
        return snapshot.Length == 1
            ? SkuCheck.NotWarmed(campaignId, sku, orders, now)
            : SkuCheck.Compare(campaignId, sku, snapshot, orders, now, TimeSpan.FromMilliseconds(_settings.GraceMs), SnapshotMargin);
    }

    private async Task<List<DbOrder>> ReadOrdersAsync(string campaignId, long skuId, CancellationToken cancellationToken)
    {
        var perShard = await Task.WhenAll(Enumerable.Range(0, shards.Count).Select(async shard =>
        {
            await using var connection = await shards.OpenAsync(shard, cancellationToken);
            return await connection.QueryAsync<DbOrder>(new CommandDefinition("""
                SELECT order_no AS OrderNo, user_id AS UserId, quantity AS Quantity, amount AS Amount, status AS Status,
                       payment_deadline AS PaymentDeadline, created_at AS CreatedAt, updated_at AS UpdatedAt,
                       idempotency_key AS IdempotencyKey
                FROM orders WHERE campaign_id = @campaignId AND sku_id = @skuId
                """, new { campaignId, skuId }, cancellationToken: cancellationToken));
        }));
        return [.. perShard.SelectMany(rows => rows)];
    }

    private async Task<Dictionary<string, int>> RepairAsync(string campaignId, CampaignSku sku, SkuCheck check, CancellationToken cancellationToken)
    {
        var keys = new SkuKeys(campaignId, sku.SkuId);
        var db = redis.GetDatabase();
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
            var reply = (RedisResult[])(await LuaScripts.Adopt.EvaluateAsync(db, metrics, [keys.Meta, keys.Idempotency, keys.Users, keys.Ledger],
            [
                order.OrderNo, order.UserId, order.Quantity, Money.ToMinor(order.Amount),
                Milliseconds(order.CreatedAt), Milliseconds(order.PaymentDeadline),
                order.Status == OrderStatus.Paid ? "P" : "R", order.IdempotencyKey,
            ]))!;
            if ((int)reply[0] == 1)
            {
                Count(DriftKind.UnknownToRedis, 1);
                LogAdopted(logger, order.OrderNo, campaignId, sku.SkuId, order.Quantity);
                if ((int)reply[1] > 0)
                {
                    LogOversold(logger, order.OrderNo, campaignId, sku.SkuId, (int)reply[1]);
                }
            }
        }

        if (check.Lost.Count > 0)
        {
            var keysByOrder = await IdempotencyKeysAsync(db, keys);
            foreach (var orderNo in check.Lost)
            {
                var key = keysByOrder.GetValueOrDefault(orderNo) ?? $"recovered-{orderNo}";
                if ((int)await LuaScripts.Republish.EvaluateAsync(db, metrics, [keys.Ledger, keys.Outbox, keys.Republished],
                    [orderNo, campaignId, sku.SkuId, key]) == 1)
                {
                    Count(DriftKind.LostEvent, 1);
                    LogRepublished(logger, orderNo, campaignId, sku.SkuId);
                }
            }
        }

        if (check.Unreleased.Count > 0)
        {
            var released = await lifecycle.ReleaseCancelledAsync(campaignId, sku.SkuId, check.Unreleased, cancellationToken);
            Count(DriftKind.UnreleasedCancel, released);
            LogReleased(logger, released, campaignId, sku.SkuId);
        }

        foreach (var orderNo in check.PaidLabels)
        {
            if ((int)await LuaScripts.MarkPaid.EvaluateAsync(db, metrics, [keys.Ledger], [orderNo]) == 1)
            {
                Count(DriftKind.PaidLabel, 1);
            }
        }

        if (check.StockOff)
        {
            var reply = (RedisResult[])(await LuaScripts.Restock.EvaluateAsync(db, metrics, [keys.Meta, keys.Ledger],
                [Math.Max(0, sku.Stock - check.LiveDbUnits), keys.Member]))!;
            var (before, after) = ((long)reply[0], (long)reply[1]);
            if (before != after)
            {
                Count(DriftKind.StockMismatch, 1);
                LogRestocked(logger, campaignId, sku.SkuId, before, after);
            }
        }

        foreach (var conflict in check.Ledger.Findings.Where(f => f.Kind is DriftKind.Conflict or DriftKind.Oversold))
        {
            LogLeftForOperator(logger, conflict.Kind, conflict.OrderNo, campaignId, sku.SkuId, conflict.Units);
        }

        if (repairs.ContainsKey(DriftKind.LostEvent))
        {
            await db.SetAddAsync(SkuKeys.LiveSkus, keys.Member);
        }
        return repairs;
    }

    /// <summary>Order number → Idempotency-Key, from the SKU's idempotency hash ("userId:key" → order number).</summary>
    private static async Task<Dictionary<long, string>> IdempotencyKeysAsync(IDatabase db, SkuKeys keys)
    {
        var byOrder = new Dictionary<long, string>();
        await foreach (var entry in db.HashScanAsync(keys.Idempotency, pageSize: 1000))
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

    [LoggerMessage(Level = LogLevel.Error, Message = "Reconciler: {Kind} drift on order {OrderNo} of {CampaignId}/{SkuId} ({Units} unit(s)) cannot be repaired automatically")]
    private static partial void LogLeftForOperator(ILogger logger, string kind, long orderNo, string campaignId, long skuId, int units);

    private sealed record DbOrder(
        long OrderNo, long UserId, int Quantity, decimal Amount, string Status,
        DateTime PaymentDeadline, DateTime CreatedAt, DateTime UpdatedAt, string IdempotencyKey);

    /// <summary>What one comparison found: the ledger to show, and what a repair has to act on.</summary>
    private sealed class SkuCheck
    {
        public required SkuLedger Ledger { get; init; }

        public List<DbOrder> UnknownToRedis { get; } = [];

        public List<long> Lost { get; } = [];

        public List<(long OrderNo, int Quantity)> Unreleased { get; } = [];

        public List<long> PaidLabels { get; } = [];

        public bool StockOff { get; init; }

        public bool OutboxHasEntries { get; init; }

        public long LiveDbUnits { get; init; }

        /// <summary>Something a repair can act on; a SKU Redis does not hold at all needs its warm-up first.</summary>
        public bool NeedsRepair => Ledger.Warmed && (Ledger.Drift > 0 || PaidLabels.Count > 0);

        public static SkuCheck NotWarmed(string campaignId, CampaignSku sku, List<DbOrder> orders, DateTimeOffset now)
        {
            // Redis knows nothing of the SKU: its live orders are unknown to Redis, but there is no stock to take
            // them out of. Loading the SKU (warm-up) and the next round settle it.
            var db = DbSide(orders);
            var findings = orders.Where(o => o.Status != OrderStatus.Cancelled)
                .Select(o => new DriftFinding(DriftKind.UnknownToRedis, o.OrderNo, o.Quantity)).ToList();
            return new SkuCheck
            {
                Ledger = new SkuLedger(campaignId, sku.SkuId, false, sku.Stock, new RedisLedgerSide(0, 0, 0), db, 0,
                    findings.Sum(f => (long)f.Units), now, findings),
            };
        }

        public static SkuCheck Compare(
            string campaignId, CampaignSku sku, RedisResult[] snapshot, List<DbOrder> orders, DateTimeOffset now, TimeSpan grace, TimeSpan margin)
        {
            var total = (long)snapshot[1];
            var available = (long)snapshot[2];
            var flat = (RedisResult[])snapshot[3]!;
            var ledger = new Dictionary<long, LedgerRecord>(flat.Length / 2);
            for (var i = 0; i < flat.Length; i += 2)
            {
                ledger[long.Parse(flat[i].ToString(), CultureInfo.InvariantCulture)] = LedgerRecord.Parse(flat[i + 1].ToString());
            }
            var outbox = ((RedisResult[])snapshot[4]!).Select(r => long.Parse(r.ToString(), CultureInfo.InvariantCulture)).ToHashSet();
            var republished = (RedisResult[])snapshot[5]!;
            var republishedAt = new Dictionary<long, long>(republished.Length / 2);
            for (var i = 0; i < republished.Length; i += 2)
            {
                republishedAt[long.Parse(republished[i].ToString(), CultureInfo.InvariantCulture)] = (long)republished[i + 1];
            }
            var byOrder = orders.ToDictionary(o => o.OrderNo);

            var findings = new List<DriftFinding>();
            long inFlight = 0, reserved = 0, sold = 0;
            var unknown = new List<DbOrder>();
            var lost = new List<long>();
            var unreleased = new List<(long, int)>();
            var paidLabels = new List<long>();

            foreach (var (orderNo, record) in ledger)
            {
                if (record.State == 'R')
                {
                    reserved += record.Quantity;
                }
                else if (record.State == 'P')
                {
                    sold += record.Quantity;
                }

                byOrder.TryGetValue(orderNo, out var order);
                switch (record.State, order?.Status)
                {
                    case ('C', OrderStatus.PendingPayment or OrderStatus.Paid):
                        findings.Add(new DriftFinding(DriftKind.Conflict, orderNo, record.Quantity));
                        break;
                    case ('C', _):
                        break;
                    case (_, null):
                        // On its way: still in the outbox, or decided (or re-published) within the grace period, so in Kafka or in a batch.
                        var sent = Math.Max(record.CreatedMs, republishedAt.GetValueOrDefault(orderNo));
                        if (outbox.Contains(orderNo) || now - DateTimeOffset.FromUnixTimeMilliseconds(sent) < grace)
                        {
                            inFlight += record.Quantity;
                        }
                        else
                        {
                            findings.Add(new DriftFinding(DriftKind.LostEvent, orderNo, record.Quantity));
                            lost.Add(orderNo);
                        }
                        break;
                    case ('P', OrderStatus.Cancelled):
                        findings.Add(new DriftFinding(DriftKind.Conflict, orderNo, record.Quantity));
                        break;
                    case ('R', OrderStatus.Cancelled):
                        if (now - Utc(order!.UpdatedAt) < grace)
                        {
                            inFlight += record.Quantity;
                        }
                        else
                        {
                            findings.Add(new DriftFinding(DriftKind.UnreleasedCancel, orderNo, record.Quantity));
                            unreleased.Add((orderNo, record.Quantity));
                        }
                        break;
                    case ('R', OrderStatus.Paid):
                        paidLabels.Add(orderNo);
                        break;
                }
            }

            foreach (var order in orders)
            {
                if (order.Status != OrderStatus.Cancelled && !ledger.ContainsKey(order.OrderNo) && Utc(order.CreatedAt) < now - margin)
                {
                    findings.Add(new DriftFinding(DriftKind.UnknownToRedis, order.OrderNo, order.Quantity));
                    unknown.Add(order);
                }
            }

            var held = reserved + sold;
            var stockOff = false;
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

            var check = new SkuCheck
            {
                Ledger = new SkuLedger(campaignId, sku.SkuId, true, sku.Stock, new RedisLedgerSide(available, reserved, sold), DbSide(orders),
                    inFlight, findings.Sum(f => (long)f.Units), now, findings),
                StockOff = stockOff,
                OutboxHasEntries = outbox.Count > 0,
                LiveDbUnits = orders.Where(o => o.Status != OrderStatus.Cancelled).Sum(o => (long)o.Quantity),
            };
            check.UnknownToRedis.AddRange(unknown);
            check.Lost.AddRange(lost);
            check.Unreleased.AddRange(unreleased);
            check.PaidLabels.AddRange(paidLabels);
            return check;
        }

        private static DbLedgerSide DbSide(List<DbOrder> orders) => new(
            orders.Where(o => o.Status == OrderStatus.PendingPayment).Sum(o => (long)o.Quantity),
            orders.Where(o => o.Status == OrderStatus.Paid).Sum(o => (long)o.Quantity),
            orders.Where(o => o.Status == OrderStatus.Cancelled).Sum(o => (long)o.Quantity));

        private static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));
    }
}
