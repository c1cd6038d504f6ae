using FlashSale.Engine.Coupons;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace FlashSale.Engine.Campaigns;

public static class CampaignsSetup
{
    /// <summary>Campaign definitions in the catalog, and their stock in Redis (warm-up, reads).</summary>
    public static IHostApplicationBuilder AddCampaigns(this IHostApplicationBuilder builder)
    {
        builder.AddEngineCore();
        builder.Services.AddOptions<CampaignOptions>().BindConfiguration(CampaignOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.TryAddSingleton<CampaignStore>();
        builder.Services.TryAddSingleton<StockService>();
        builder.AddCouponPools();
        return builder;
    }
}
