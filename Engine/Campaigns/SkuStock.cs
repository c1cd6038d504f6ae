namespace FlashSale.Engine.Campaigns;

/// <summary>A SKU's stock as Redis sees it right now.</summary>
public sealed record SkuStock(string CampaignId, long SkuId, int Total, int Available, SkuState State);
