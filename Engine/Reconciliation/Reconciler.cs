using System.Globalization;
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
/// Compares each campaign SKU's Redis side (stock, ledger, outbox) with its orders in MySQL
/// (<see cref="LedgerComparison"/>), and repairs what drifted. Redis is read in one script, so its stock,
/// ledger and outbox are seen at one instant; MySQL is read just after, so the check is safe while a sale
/// runs at full speed. Each repair is a script that re-checks its condition atomically
/// in Redis, so repairs are idempotent and several reconcilers may run at once.
/// </summary>
public sealed partial class Reconciler(
    IConnectionMultiplexer redis,
    ShardDataSources shards,
    CampaignStore campaigns,
    OrderLifecycle lifecycle,
    SkuScripts scripts,
    ReconcilerMetrics metrics,
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
            if (repair)
            {
                await FenceIfBehindAsync(new SkuKeys(campaign.CampaignId, sku.SkuId), cancellationToken);
            }
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
                    await redis.GetDatabase().SetAddAsync(RedisKeyspace.LiveSkus, new SkuKeys(campaign.CampaignId, sku.SkuId).Member);
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

    /// <summary>
    /// The highest decision sequence of the SKU that any shard has persisted (0 when none). Every persisted sequence
    /// was decided before it was persisted, so a Redis that did not forget anything is never below it.
    /// </summary>
    public async Task<long> HighWaterAsync(SkuKeys sku, CancellationToken cancellationToken)
    {
        var marks = await shards.QueryEveryShardAsync<long>(
            "SELECT seq FROM sku_high_water WHERE campaign_id = @campaignId AND sku_id = @skuId",
            new { campaignId = sku.CampaignId, skuId = sku.SkuId }, cancellationToken);
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
        var db = redis.GetDatabase();
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
    /// </summary>
    public async Task<int> AdoptForgottenAsync(string campaignId, CampaignSku sku, CancellationToken cancellationToken)
    {
        var check = await CheckSkuAsync(campaignId, sku, cancellationToken, margin: TimeSpan.Zero);
        foreach (var kind in check.Ledger.Findings.Where(f => f.Kind == DriftKind.UnknownToRedis).GroupBy(f => f.Kind))
        {
            metrics.DriftFound(kind.Key, kind.Sum(f => (long)f.Units));
        }
        var adopted = 0;
        var keys = new SkuKeys(campaignId, sku.SkuId);
        var db = redis.GetDatabase();
        foreach (var order in check.UnknownToRedis)
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

    private async Task<SkuCheck> CheckSkuAsync(string campaignId, CampaignSku sku, CancellationToken cancellationToken, TimeSpan? margin = null)
    {
        var snapshot = await scripts.LedgerSnapshotAsync(redis.GetDatabase(), new SkuKeys(campaignId, sku.SkuId));
        var orders = await shards.QueryEveryShardAsync<DbOrder>("""
            SELECT order_no AS OrderNo, user_id AS UserId, quantity AS Quantity, amount AS Amount, status AS Status,
                   payment_deadline AS PaymentDeadline, created_at AS CreatedAt, updated_at AS UpdatedAt,
                   idempotency_key AS IdempotencyKey
            FROM orders WHERE campaign_id = @campaignId AND sku_id = @skuId
            """, new { campaignId, skuId = sku.SkuId }, cancellationToken);
        return LedgerComparison.Compare(campaignId, sku.SkuId, sku.Stock, snapshot, orders, TimeSpan.FromMilliseconds(_settings.GraceMs), margin ?? SnapshotMargin);
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
            if (await scripts.MarkPaidAsync(db, keys, orderNo) == MarkPaidOutcome.Marked)
            {
                Count(DriftKind.PaidLabel, 1);
            }
        }

        if (check.StockOff)
        {
            if (await scripts.RestockAsync(db, keys, Math.Max(0, sku.Stock - check.LiveDbUnits)) is { } restock && restock.Before != restock.After)
            {
                Count(DriftKind.StockMismatch, 1);
                LogRestocked(logger, campaignId, sku.SkuId, restock.Before, restock.After);
            }
        }

        foreach (var conflict in check.Ledger.Findings.Where(f => f.Kind is DriftKind.Conflict or DriftKind.Oversold))
        {
            LogLeftForOperator(logger, conflict.Kind, conflict.OrderNo, campaignId, sku.SkuId, conflict.Units);
        }

        if (repairs.ContainsKey(DriftKind.LostEvent))
        {
            await db.SetAddAsync(RedisKeyspace.LiveSkus, keys.Member);
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

    [LoggerMessage(Level = LogLevel.Error, Message = "Reconciler: {Kind} drift on order {OrderNo} of {CampaignId}/{SkuId} ({Units} unit(s)) cannot be repaired automatically")]
    private static partial void LogLeftForOperator(ILogger logger, string kind, long orderNo, string campaignId, long skuId, int units);
}
