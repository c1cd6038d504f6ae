using FlashSale.Engine.Buckets;
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
/// <para>
/// A SKU split into stock buckets is rebuilt as one: a fence in any bucket fences every bucket at once (a bucket that
/// forgot decisions may have forgotten a transfer too, so no bucket may sell or transfer until all are rebuilt); each
/// bucket adopts the orders it decided; then, with every bucket fenced, the SKU's stock is shared out again from the
/// running counts — each bucket's total becomes the units its ledger holds plus an even share of the units nobody holds
/// (rebalance.lua, which also forgets open transfers: the new shares account for their units) — and recover.lua lifts
/// each bucket's fence at total − held, with its own high-water mark and a new epoch.
/// </para>
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
        // Every bucket of a split SKU whose fence is up in one of them, fenced now (recovery rebuilds them together).
        var found = fenced;
        var definitions = new Dictionary<SkuKeys, CampaignSku?>();
        foreach (var home in found.Select(s => s.Home).Distinct())
        {
            var definition = (await campaigns.GetAsync(home.CampaignId, cancellationToken))?.FindSku(home.SkuId);
            definitions[home] = definition;
            if (definition is { Buckets: > 1 })
            {
                await reconciler.FenceBucketsAsync(home.AllBuckets(definition.Buckets), "a bucket of the SKU is fenced");
            }
        }
        fenced = [.. definitions.SelectMany(d => d.Value is { Buckets: > 1 } split ? d.Key.AllBuckets(split.Buckets) : found.Where(s => s.Home == d.Key))];

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

        foreach (var (home, definition) in definitions)
        {
            if (definition is null)
            {
                LogNotInCatalog(logger, home.CampaignId, home.SkuId);
                continue;
            }
            if (definition.Buckets > 1)
            {
                await RecoverBucketsAsync(home, definition, cancellationToken);
                continue;
            }
            foreach (var sku in fenced.Where(s => s.Home == home))
            {
                var adopted = await reconciler.AdoptForgottenAsync(sku, definition, cancellationToken);
                var highWater = await reconciler.HighWaterAsync(sku, cancellationToken);
                await RecoverOneAsync(sku, highWater, adopted);
            }
        }
    }

    /// <summary>Lifts one fence (a SKU's, or a bucket's) with recover.lua, and says so.</summary>
    private async Task<bool> RecoverOneAsync(SkuKeys sku, long highWater, int adopted)
    {
        var reply = await scripts.RecoverAsync(db, sku, highWater);
        if (reply.Outcome == RecoverOutcome.Unfenced)
        {
            var elapsed = time.GetElapsedTime(_fencedSince.GetValueOrDefault(sku, time.GetTimestamp()));
            metrics.Recovered(elapsed);
            LogRecovered(logger, sku.CampaignId, sku.SkuId, Where(sku), adopted, reply.Available, reply.Sequence, (long)elapsed.TotalMilliseconds);
        }
        else if (reply.Outcome == RecoverOutcome.NotCounted)
        {
            LogNotCounted(logger, sku.CampaignId, sku.SkuId, Where(sku));
        }
        _fencedSince.Remove(sku);
        return reply.Outcome == RecoverOutcome.Unfenced;
    }

    /// <summary>
    /// Rebuilds a split SKU, every bucket fenced: adoption bucket by bucket, then the stock shared out again (each bucket's
    /// total = the units its ledger holds + an even share of the rest, open transfers forgotten), then the fences lifted.
    /// </summary>
    private async Task RecoverBucketsAsync(SkuKeys home, CampaignSku definition, CancellationToken cancellationToken)
    {
        var all = home.AllBuckets(definition.Buckets);
        var adopted = new int[all.Length];
        var held = new long[all.Length];
        for (var b = 0; b < all.Length; b++)
        {
            adopted[b] = await reconciler.AdoptForgottenAsync(all[b], definition, cancellationToken);
            if (!await scripts.CountLedgerAsync(db, all[b]))
            {
                LogNotCounted(logger, home.CampaignId, home.SkuId, Where(all[b]));
                return;
            }
            var counters = await scripts.SkuCountersAsync(db, all[b]);
            held[b] = counters.Reserved + counters.Sold;
        }
        // Units nobody holds, shared evenly; a SKU whose buckets hold more than its stock (oversold: reported by the
        // reconciler) gets no free units at all.
        var free = (int)Math.Max(0, definition.Stock - held.Sum());
        var shares = BucketRouting.Spread(free, all.Length);
        for (var b = 0; b < all.Length; b++)
        {
            if (!await scripts.RebalanceAsync(db, all[b], held[b] + shares[b]))
            {
                // Not fenced any more (another recovery finished it): the shares are that one's.
                LogNotFenced(logger, all[b].Member);
                return;
            }
        }
        LogRebalanced(logger, home.SkuMember, string.Join(", ", held.Select((h, b) => $"{h} held + {shares[b]}")));
        for (var b = 0; b < all.Length; b++)
        {
            await RecoverOneAsync(all[b], await reconciler.HighWaterAsync(all[b], cancellationToken), adopted[b]);
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

    /// <summary>" bucket b" for a bucket b ≥ 1 of a split SKU, nothing otherwise: a log line names the SKU as it always did.</summary>
    private static string Where(SkuKeys sku) => sku.Bucket == 0 ? "" : $" bucket {sku.Bucket}";

    [LoggerMessage(Level = LogLevel.Warning, Message = "Recovery: {CampaignId}/{SkuId}{Bucket} rebuilt ({Adopted} forgotten order(s) adopted), stock {Available}, sequence {Sequence}; on sale again after {ElapsedMs} ms")]
    private static partial void LogRecovered(ILogger logger, string campaignId, long skuId, string bucket, int adopted, long available, long sequence, long elapsedMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Recovery: {CampaignId}/{SkuId}{Bucket} has no exact counts of the units its ledger holds and its ledger kept moving while it was counted; it stays fenced and the next check tries again")]
    private static partial void LogNotCounted(ILogger logger, string campaignId, long skuId, string bucket);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Recovery: {Sku}'s stock shared out again over its buckets: {Shares}")]
    private static partial void LogRebalanced(ILogger logger, string sku, string shares);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Recovery: bucket {Sku} was no longer fenced while its SKU was rebuilt; the next check looks again")]
    private static partial void LogNotFenced(ILogger logger, string sku);

    [LoggerMessage(Level = LogLevel.Error, Message = "Recovery: {CampaignId}/{SkuId} is fenced but not in the catalog; it stays fenced until an operator looks")]
    private static partial void LogNotInCatalog(ILogger logger, string campaignId, long skuId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Recovery: Redis {Identity} is rebuilt and now trusted")]
    private static partial void LogTrusted(ILogger logger, string identity);
}
