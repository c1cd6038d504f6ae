using FlashSale.Engine.Campaigns;
using FlashSale.Engine.Fencing;
using FlashSale.Engine.Redis;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace FlashSale.Engine.Reconciliation;

/// <summary>
/// Rebuilds fenced SKUs from the durable log, run by the reconciler's leaseholder: wait until the Persisters have
/// written everything Kafka held when recovery began (every acknowledged reservation is in Kafka before its 201),
/// adopt every live order MySQL holds that the SKU's ledger forgot, then lift the fence with the stock at total −
/// held and the sequence at least the persisted high-water mark (recover.lua). SKUs that are not fenced keep
/// selling all along. Once no live SKU of a Redis the engine did not trust is fenced, its identity is trusted.
/// </summary>
public sealed partial class SkuRecovery(
    IConnectionMultiplexer redis,
    IDatabase db,
    SkuScripts scripts,
    Reconciler reconciler,
    CampaignStore campaigns,
    KafkaCatchUp kafka,
    TrustedRedisStore trusted,
    ReconcilerMetrics metrics,
    IOptions<ReconcilerOptions> options,
    TimeProvider time,
    ILogger<SkuRecovery> logger)
{
    // When this process first found each SKU fenced: where the recovery duration and the settle time start.
    private readonly Dictionary<SkuKeys, long> _fencedSince = [];

    private RedisIdentity? _trusted;

    /// <summary>The live SKUs whose fence is up, in one pipelined round.</summary>
    public async Task<IReadOnlyList<SkuKeys>> FencedAsync()
    {
        var skus = await RedisKeyspace.LiveSkusAsync(db);
        var fenced = await Task.WhenAll(skus.Select(s => db.HashExistsAsync(s.Meta, MetaFields.Fenced)));
        return [.. skus.Where((_, i) => fenced[i])];
    }

    /// <summary>Rebuilds the fenced SKUs and lifts their fences; a SKU it cannot rebuild stays fenced.</summary>
    /// <exception cref="TimeoutException">Kafka was not consumed up to its end in time: the SKUs stay fenced, the next call tries again.</exception>
    public async Task RecoverAsync(IReadOnlyList<SkuKeys> fenced, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var now = time.GetTimestamp();
        foreach (var sku in fenced)
        {
            _fencedSince.TryAdd(sku, now);
        }
        foreach (var gone in _fencedSince.Keys.Except(fenced).ToList())
        {
            _fencedSince.Remove(gone);
        }

        // An acknowledgement of a decision the lost Redis made may still be on its way into Kafka (its delivery
        // report is at most the Ingress's acknowledgement timeout away): those events must be in before the ends are read.
        var settle = TimeSpan.FromMilliseconds(settings.RecoverySettleMs) - fenced.Min(s => time.GetElapsedTime(_fencedSince[s]));
        if (settle > TimeSpan.Zero)
        {
            await Task.Delay(settle, time, cancellationToken);
        }
        var ends = await kafka.EndsAsync(cancellationToken);
        LogCatchingUp(logger, fenced.Count, ends.Sum(e => Math.Max(0, e.Offset.Value)));
        await kafka.WaitCommittedAsync(ends, TimeSpan.FromMilliseconds(settings.RecoveryCatchUpTimeoutMs), cancellationToken);

        foreach (var sku in fenced)
        {
            var campaign = await campaigns.GetAsync(sku.CampaignId, cancellationToken);
            if (campaign?.FindSku(sku.SkuId) is not { } definition)
            {
                LogNotInCatalog(logger, sku.CampaignId, sku.SkuId);
                continue;
            }
            var adopted = await reconciler.AdoptForgottenAsync(campaign.CampaignId, definition, cancellationToken);
            var highWater = await reconciler.HighWaterAsync(sku, cancellationToken);
            var reply = await scripts.RecoverAsync(db, sku, highWater);
            if (reply.Outcome == RecoverOutcome.Unfenced)
            {
                var elapsed = time.GetElapsedTime(_fencedSince[sku]);
                metrics.Recovered(elapsed);
                LogRecovered(logger, sku.CampaignId, sku.SkuId, adopted, reply.Available, reply.Sequence, (long)elapsed.TotalMilliseconds);
            }
            else if (reply.Outcome == RecoverOutcome.NotCounted)
            {
                LogNotCounted(logger, sku.CampaignId, sku.SkuId);
            }
            _fencedSince.Remove(sku);
        }
    }

    /// <summary>
    /// Records the Redis the engine talks to as trusted once it is rebuilt: the identity watchers have fenced its
    /// live SKUs (the marker in it names it) and no live SKU is fenced any more.
    /// </summary>
    public async Task TrustIfRebuiltAsync(CancellationToken cancellationToken)
    {
        var identity = await RedisIdentity.ReadAsync(redis);
        if (identity == _trusted)
        {
            return;
        }
        if (await trusted.GetAsync(cancellationToken) == identity)
        {
            _trusted = identity;
            return;
        }
        if (await db.StringGetAsync(RedisKeyspace.FencedIdentity) != identity.ToString()
            || (await FencedAsync()).Count > 0
            || await RedisIdentity.ReadAsync(redis) != identity)
        {
            return;
        }
        await trusted.TrustAsync(identity, cancellationToken);
        _trusted = identity;
        LogTrusted(logger, identity.ToString());
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Recovery: {Count} fenced SKU(s); waiting until the Persisters have written the {Offsets} record(s) Kafka holds")]
    private static partial void LogCatchingUp(ILogger logger, int count, long offsets);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Recovery: {CampaignId}/{SkuId} rebuilt ({Adopted} forgotten order(s) adopted), stock {Available}, sequence {Sequence}; on sale again after {ElapsedMs} ms")]
    private static partial void LogRecovered(ILogger logger, string campaignId, long skuId, int adopted, long available, long sequence, long elapsedMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Recovery: {CampaignId}/{SkuId} has no exact counts of the units its ledger holds and its ledger kept moving while it was counted; it stays fenced and the next check tries again")]
    private static partial void LogNotCounted(ILogger logger, string campaignId, long skuId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Recovery: {CampaignId}/{SkuId} is fenced but not in the catalog; it stays fenced until an operator looks")]
    private static partial void LogNotInCatalog(ILogger logger, string campaignId, long skuId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Recovery: Redis {Identity} is rebuilt and now trusted")]
    private static partial void LogTrusted(ILogger logger, string identity);
}
