using FlashSale.Engine.Campaigns;
using FlashSale.Engine.Redis;
using StackExchange.Redis;

namespace FlashSale.Engine.Coupons;

public sealed record CouponWarmup(string CouponId, WarmupOutcome Outcome, int Available);

/// <summary>A coupon pool as Redis holds it right now; <see cref="Fenced"/> while Redis may have forgotten its decisions.</summary>
public sealed record CouponStock(string CampaignId, string CouponId, int Total, int Available, CouponState State, bool Fenced);

/// <summary>Loads a campaign's coupon pools into Redis (warm-up, after its SKUs) and reads them back.</summary>
public sealed class CouponStockService(IDatabase db, CouponScripts scripts)
{
    /// <summary>
    /// Loads every pool of the campaign. Without <paramref name="force"/> a pool already live is left as it is (reported
    /// <see cref="WarmupOutcome.AlreadyLive"/>); with it, its available coupons become total minus those its locks hold.
    /// </summary>
    public async Task<IReadOnlyList<CouponWarmup>> WarmAsync(CampaignDefinition campaign, bool force)
    {
        var pools = campaign.CouponPools;
        if (pools.Count == 0)
        {
            return [];
        }
        // Registered before the pool exists, like a SKU in the live set: fencing never misses a pool that decides.
        await db.SetAddAsync(CouponKeyspace.LivePools, [.. pools.Select(c => (RedisValue)new CouponKeys(campaign.CampaignId, c.CouponId).Member)]);
        var replies = await Task.WhenAll(pools.Select(c => scripts.WarmupAsync(db, new CouponKeys(campaign.CampaignId, c.CouponId),
            new CouponLoad(c.Quantity, c.DiscountMinor, c.MinSpendMinor, c.PerUserLimit,
                campaign.StartsAt.ToUnixTimeMilliseconds(), campaign.EndsAt.ToUnixTimeMilliseconds()), force)));
        return [.. pools.Select((c, i) => new CouponWarmup(c.CouponId, replies[i].Loaded ? WarmupOutcome.Loaded : WarmupOutcome.AlreadyLive, replies[i].Available))];
    }

    /// <summary>Every pool of the campaign, in definition order; a pool Redis does not hold is <see cref="CouponState.NotWarmed"/>.</summary>
    public async Task<IReadOnlyList<CouponStock>> ReadAsync(CampaignDefinition campaign)
    {
        var stocks = await Task.WhenAll(campaign.CouponPools.Select(async c =>
            await ReadAsync(campaign.CampaignId, c.CouponId) ?? new CouponStock(campaign.CampaignId, c.CouponId, c.Quantity, 0, CouponState.NotWarmed, false)));
        return stocks;
    }

    /// <summary>The pool as Redis holds it, or null when Redis does not know it.</summary>
    public async Task<CouponStock?> ReadAsync(string campaignId, string couponId)
    {
        var values = await db.HashGetAsync(new CouponKeys(campaignId, couponId).Meta, [MetaFields.Total, MetaFields.Available, MetaFields.Fenced]);
        if (values[0].IsNull)
        {
            return null;
        }
        var available = (int)values[1];
        return new CouponStock(campaignId, couponId, (int)values[0], available, available > 0 ? CouponState.Available : CouponState.Exhausted, !values[2].IsNull);
    }
}
