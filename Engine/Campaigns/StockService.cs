using FlashSale.Engine.Redis;
using StackExchange.Redis;

namespace FlashSale.Engine.Campaigns;

public sealed record SkuWarmup(long SkuId, WarmupOutcome Outcome, int Available);

/// <summary>Loads a campaign's stock into Redis before the sale and reads it back.</summary>
public sealed class StockService(IDatabase db, SkuScripts scripts, TimeProvider time)
{
    /// <summary>SKUs sent to Redis per pipelined round.</summary>
    public const int BatchSize = 200;

    /// <summary>
    /// Loads every SKU of the campaign. Without <paramref name="force"/> nothing is written when any
    /// SKU is already live, since that would hand out stock a second time; the caller reports which.
    /// With it, each SKU's stock becomes its total minus the units its Redis ledger still holds.
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

        // Registered before the stock exists, so the relay never misses an outbox that has entries.
        await db.SetAddAsync(RedisKeyspace.LiveSkus, [.. campaign.Skus.Select(s => (RedisValue)new SkuKeys(campaign.CampaignId, s.SkuId).Member)]);
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
            var replies = await Task.WhenAll(batch.Select(sku => scripts.WarmupAsync(
                db,
                new SkuKeys(campaign.CampaignId, sku.SkuId),
                new SkuLoad(sku.Stock, campaign.StartsAt.ToUnixTimeMilliseconds(), campaign.EndsAt.ToUnixTimeMilliseconds(),
                    sku.PerUserLimit, sku.PriceMinor, campaign.PaymentWindowSeconds,
                    admission.IsQueue ? admission.AdmitFactorMilli : 0, admission.IsQueue ? admission.TokenSeconds : 0),
                force)));
            for (var i = 0; i < batch.Length; i++)
            {
                results.Add(new SkuWarmup(batch[i].SkuId, replies[i].Loaded ? WarmupOutcome.Loaded : WarmupOutcome.AlreadyLive, replies[i].Available));
            }
            progress?.Report(batch.Length);
        }
        return results;
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

    private async Task<SkuStock?> ReadAsync(IDatabaseAsync db, string campaignId, long skuId, int? totalIfCold)
    {
        var values = await db.HashGetAsync(new SkuKeys(campaignId, skuId).Meta, [MetaFields.Total, MetaFields.Available, MetaFields.Starts, MetaFields.Ends, MetaFields.Fenced]);
        if (values[0].IsNull)
        {
            return totalIfCold is { } total ? new SkuStock(campaignId, skuId, total, 0, SkuState.NotWarmed) : null;
        }
        var state = values[4].IsNull ? StateAt(time.GetUtcNow().ToUnixTimeMilliseconds(), (long)values[2], (long)values[3], (int)values[1]) : SkuState.Recovering;
        return new SkuStock(campaignId, skuId, (int)values[0], (int)values[1], state);
    }

    /// <summary>A warmed SKU's state at <paramref name="nowMs"/>.</summary>
    public static SkuState StateAt(long nowMs, long startsMs, long endsMs, long available)
        => nowMs >= endsMs ? SkuState.Ended
            : nowMs < startsMs ? SkuState.Scheduled
            : available == 0 ? SkuState.SoldOut
            : SkuState.OnSale;
}
