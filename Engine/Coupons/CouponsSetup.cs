using FlashSale.Engine.Storage;
using FlashSale.Engine.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace FlashSale.Engine.Coupons;

public static class CouponsSetup
{
    /// <summary>Coupons' settings and metrics, and the pools' warm-up and reads.</summary>
    public static IHostApplicationBuilder AddCouponPools(this IHostApplicationBuilder builder)
    {
        builder.AddEngineCore();
        builder.Services.AddOptions<CouponOptions>().BindConfiguration(CouponOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddEngineMetrics<CouponMetrics>();
        builder.Services.TryAddSingleton<CouponStockService>();
        return builder;
    }

    /// <summary>The pools' reconciler and the orphan sweep it repairs with (for the admin API, the CLI and the Persister's loop).</summary>
    public static IHostApplicationBuilder AddCouponReconciliation(this IHostApplicationBuilder builder)
    {
        builder.AddCouponPools();
        builder.AddShards();
        builder.Services.TryAddSingleton<CouponSweeper>();
        builder.Services.TryAddSingleton<CouponReconciler>();
        return builder;
    }

    /// <summary>The Persister's sweep of orphaned coupons (a Try-coupon whose stock Try never came), on a timer.</summary>
    public static IHostApplicationBuilder AddCouponSweep(this IHostApplicationBuilder builder)
    {
        builder.AddCouponReconciliation();
        builder.Services.AddHostedService<CouponSweepService>();
        return builder;
    }

    /// <summary>The coupon's half of a couponed reservation (Try-coupon, and its Cancel when the stock is refused): the Ingress.</summary>
    public static IHostApplicationBuilder AddCouponReservations(this IHostApplicationBuilder builder)
    {
        builder.AddCouponPools();
        builder.Services.TryAddSingleton<CouponReservations>();
        return builder;
    }
}
