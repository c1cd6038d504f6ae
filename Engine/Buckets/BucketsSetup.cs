using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace FlashSale.Engine.Buckets;

public static class BucketsSetup
{
    /// <summary>SKUs split into stock buckets: the bucket count of each SKU, the transfers between buckets, and the refill.</summary>
    public static IServiceCollection AddStockBuckets(this IServiceCollection services)
    {
        services.AddOptions<BucketOptions>().BindConfiguration(BucketOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton<BucketMap>();
        services.TryAddSingleton<StockTransfers>();
        services.TryAddSingleton<BucketRefill>();
        return services;
    }
}
