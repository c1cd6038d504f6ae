using FlashSale.Engine.Storage;
using FlashSale.Engine.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace FlashSale.Engine.Lifecycle;

public static class LifecycleSetup
{
    /// <summary>Payments, cancels and releases of orders (the TCC's Confirm and Cancel).</summary>
    public static IHostApplicationBuilder AddLifecycle(this IHostApplicationBuilder builder)
    {
        builder.AddEngineCore();
        builder.AddShards();
        builder.Services.AddEngineMetrics<LifecycleMetrics>();
        builder.Services.TryAddSingleton<OrderLifecycle>();
        return builder;
    }

    /// <summary>The lifecycle, and the scan that cancels orders whose payment window closed (the Persister runs it).</summary>
    public static IHostApplicationBuilder AddPaymentTimeouts(this IHostApplicationBuilder builder)
    {
        builder.AddLifecycle();
        builder.Services.AddOptions<PaymentTimeoutOptions>().BindConfiguration(PaymentTimeoutOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddHostedService<PaymentTimeoutService>();
        return builder;
    }
}
