using FlashSale.Engine.Campaigns;
using FlashSale.Engine.Coupons;
using FlashSale.Engine.Fencing;
using FlashSale.Engine.Kafka;
using FlashSale.Engine.Lifecycle;
using FlashSale.Engine.Persistence;
using FlashSale.Engine.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace FlashSale.Engine.Reconciliation;

public static class ReconciliationSetup
{
    /// <summary>The reconciler: a SKU's ledger from both sides, and the repairs (for the admin API and the CLI).</summary>
    public static IHostApplicationBuilder AddReconciliation(this IHostApplicationBuilder builder)
    {
        builder.AddLifecycle();
        builder.Services.TryAddSingleton<CampaignStore>();
        builder.Services.AddOptions<ReconcilerOptions>().BindConfiguration(ReconcilerOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddEngineMetrics<ReconcilerMetrics>();
        builder.Services.TryAddSingleton<Reconciler>();
        builder.AddCouponReconciliation();
        return builder;
    }

    /// <summary>
    /// The reconciler and its loop over every active campaign, with the recovery of fenced SKUs (the Persister runs
    /// it; a Redis lease picks one process at a time).
    /// </summary>
    public static IHostApplicationBuilder AddReconcilerLoop(this IHostApplicationBuilder builder)
    {
        builder.AddReconciliation();
        builder.AddRedisFencing();
        builder.AddKafka();
        builder.Services.AddOptions<PersistenceOptions>().BindConfiguration(PersistenceOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.TryAddSingleton<KafkaCatchUp>();
        builder.Services.TryAddSingleton<SkuRecovery>();
        builder.Services.AddHostedService<ReconcilerService>();
        return builder;
    }
}
