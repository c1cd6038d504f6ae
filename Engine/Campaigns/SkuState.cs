namespace FlashSale.Engine.Campaigns;

public enum SkuState
{
    /// <summary>Defined in the catalog, not loaded into Redis: nothing can be reserved.</summary>
    NotWarmed,

    /// <summary>Loaded, the campaign has not started.</summary>
    Scheduled,

    OnSale,
    SoldOut,
    Ended,

    /// <summary>Fenced: Redis may have forgotten decisions, and nothing is sold until recovery has rebuilt the SKU.</summary>
    Recovering,
}

/// <summary>A SKU's stock as Redis sees it right now.</summary>
public sealed record SkuStock(string CampaignId, long SkuId, int Total, int Available, SkuState State);
