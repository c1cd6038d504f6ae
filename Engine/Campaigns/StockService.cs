using FlashSale.Engine.Buckets;
using FlashSale.Engine.Redis;
using StackExchange.Redis;

namespace FlashSale.Engine.Campaigns;

public sealed record SkuWarmup(long SkuId, WarmupOutcome Outcome, int Available);

/// <summary>Loads a campaign's stock into Redis before the sale and reads it back.</summary>
public sealed class StockService(IDatabase db, SkuScripts scripts, TimeProvider time)
{
    /// <summary>SKUs sent to Redis per pipelined round.</summary>
    public const int BatchSize = 200;

    private static readonly RedisValue[] StockFields =
        [MetaFields.Total, MetaFields.Available, MetaFields.Starts, MetaFields.Ends, MetaFields.Fenced, MetaFields.Buckets, MetaFields.SkuTotal];

    /// <summary>
    /// Loads every SKU of the campaign. Without <paramref name="force"/> nothing is written when any
    /// SKU is already live, since that would hand out stock a second time; the caller reports which.
    /// With it, each SKU's stock becomes its total minus the units its Redis ledger still holds.
    /// A SKU split into buckets is loaded bucket by bucket (<see cref="WarmBucketsAsync"/>).
    /// </summary>
    public async Task<IReadOnlyList<SkuWarmup>> WarmAsync(
        CampaignDefinition campaign, bool force, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        if (!force)
        {
            var live = (await ReadAsync(campaign, cancellationToken)).Where(s => s.State != SkuState.NotWarmed).ToList();
            if (live.Count > 0)
            {
                return [.. live.Select(s => new SkuWarmup(s.SkuId, WarmupOutcome.AlreadyLive, s.Available))];
            }
        }

        // Registered before the stock exists, so the relay never misses an outbox that has entries (every bucket's).
        await db.SetAddAsync(RedisKeyspace.LiveSkus, [.. campaign.Skus.SelectMany(s =>
            new SkuKeys(campaign.CampaignId, s.SkuId).AllBuckets(s.Buckets).Select(b => (RedisValue)b.Member))]);
        var admission = campaign.EffectiveAdmission;
        if (admission.IsQueue)
        {
            // Before the stock, like the live set: the admitting loop looks at a SKU as soon as it can be sold.
            await db.SetAddAsync(RedisKeyspace.QueueSkus, [.. campaign.Skus.Select(s => (RedisValue)new SkuKeys(campaign.CampaignId, s.SkuId).Member)]);
        }
        var results = new List<SkuWarmup>(campaign.Skus.Count);
        foreach (var batch in campaign.Skus.Chunk(BatchSize))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var replies = await Task.WhenAll(batch.Select(sku =>
            {
                var load = new SkuLoad(sku.Stock, campaign.StartsAt.ToUnixTimeMilliseconds(), campaign.EndsAt.ToUnixTimeMilliseconds(),
                    sku.PerUserLimit, sku.PriceMinor, campaign.PaymentWindowSeconds,
                    admission.IsQueue ? admission.AdmitFactorMilli : 0, admission.IsQueue ? admission.TokenSeconds : 0);
                var keys = new SkuKeys(campaign.CampaignId, sku.SkuId);
                return sku.Buckets > 1 ? WarmBucketsAsync(keys, sku.Buckets, load, force) : scripts.WarmupAsync(db, keys, load, force);
            }));
            for (var i = 0; i < batch.Length; i++)
            {
                results.Add(new SkuWarmup(batch[i].SkuId, replies[i].Loaded ? WarmupOutcome.Loaded : WarmupOutcome.AlreadyLive, replies[i].Available));
            }
            progress?.Report(batch.Length);
        }
        return results;
    }

    /// <summary>
    /// Loads a SKU split into <paramref name="buckets"/> buckets: first every bucket's meta learns how many buckets there
    /// are and the SKU's whole stock (so an Ingress that finds bucket 0 live routes by it), then each bucket is loaded by
    /// warmup.lua like a SKU of its own, bucket 0 last. A first load spreads the stock evenly (<see cref="BucketRouting.Spread"/>);
    /// a forced reload keeps each bucket's total as transfers left it (stock = that total minus the units its ledger
    /// holds), so the buckets still share exactly the SKU's stock.
    /// </summary>
    private async Task<WarmupReply> WarmBucketsAsync(SkuKeys home, int buckets, SkuLoad load, bool force)
    {
        var all = home.AllBuckets(buckets);
        var totals = await Task.WhenAll(all.Select(b => db.HashGetAsync(b.Meta, MetaFields.Total)));
        var spread = BucketRouting.Spread(load.Total, buckets);
        await Task.WhenAll(all.Select(b => db.HashSetAsync(b.Meta, [new(MetaFields.Buckets, buckets), new(MetaFields.SkuTotal, load.Total)])));
        var replies = new WarmupReply[buckets];
        for (var b = buckets - 1; b >= 0; b--)
        {
            var total = force && !totals[b].IsNull ? (int)totals[b] : spread[b];
            replies[b] = await scripts.WarmupAsync(db, all[b], load with { Total = total }, force);
        }
        return new WarmupReply(replies.Any(r => r.Loaded), replies.Sum(r => r.Available));
    }

    public async Task<IReadOnlyList<SkuStock>> ReadAsync(CampaignDefinition campaign, CancellationToken cancellationToken = default)
    {
        var results = new List<SkuStock>(campaign.Skus.Count);
        foreach (var batch in campaign.Skus.Chunk(BatchSize))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var stocks = await Task.WhenAll(batch.Select(sku => ReadAsync(db, campaign.CampaignId, sku.SkuId, sku.Stock)));
            results.AddRange(stocks.Select(s => s!));
        }
        return results;
    }

    /// <summary>The SKU as Redis holds it, or null when Redis does not know it.</summary>
    public Task<SkuStock?> ReadAsync(string campaignId, long skuId)
        => ReadAsync(db, campaignId, skuId, totalIfCold: null);

    /// <summary>
    /// A SKU split into buckets reads as one: its whole stock, the units of every bucket together, fenced (recovering)
    /// while any bucket is.
    /// </summary>
    private async Task<SkuStock?> ReadAsync(IDatabaseAsync db, string campaignId, long skuId, int? totalIfCold)
    {
        var home = new SkuKeys(campaignId, skuId);
        var values = await db.HashGetAsync(home.Meta, StockFields);
        if (values[0].IsNull)
        {
            return totalIfCold is { } total ? new SkuStock(campaignId, skuId, total, 0, SkuState.NotWarmed) : null;
        }
        var (skuTotal, available, fenced) = ((int)values[0], (int)values[1], !values[4].IsNull);
        if (!values[5].IsNull && (int)values[5] > 1)
        {
            var others = await Task.WhenAll(home.AllBuckets((int)values[5]).Skip(1)
                .Select(b => db.HashGetAsync(b.Meta, [MetaFields.Available, MetaFields.Fenced])));
            skuTotal = values[6].IsNull ? skuTotal : (int)values[6];
            available += others.Sum(o => o[0].IsNull ? 0 : (int)o[0]);
            fenced |= others.Any(o => !o[1].IsNull);
        }
        var state = fenced ? SkuState.Recovering : StateAt(time.GetUtcNow().ToUnixTimeMilliseconds(), (long)values[2], (long)values[3], available);
        return new SkuStock(campaignId, skuId, skuTotal, available, state);
    }

    /// <summary>A warmed SKU's state at <paramref name="nowMs"/>.</summary>
    public static SkuState StateAt(long nowMs, long startsMs, long endsMs, long available)
        => nowMs >= endsMs ? SkuState.Ended
            : nowMs < startsMs ? SkuState.Scheduled
            : available == 0 ? SkuState.SoldOut
            : SkuState.OnSale;
}
