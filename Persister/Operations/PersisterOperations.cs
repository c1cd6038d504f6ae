using FlashSale.Engine.Health;
using FlashSale.Engine.Telemetry;

namespace FlashSale.Persister.Operations;

/// <summary>
/// The Persister's small HTTP listener: Prometheus metrics and health, nothing else. Its work (consuming,
/// writing, payment-window scans) does not depend on it.
/// </summary>
internal static class PersisterOperations
{
    public static WebApplicationBuilder AddPersisterOperations(this WebApplicationBuilder builder)
    {
        if (string.IsNullOrWhiteSpace(builder.Configuration[WebHostDefaults.ServerUrlsKey]))
        {
            var options = builder.Configuration.GetSection(PersisterHostOptions.Section).Get<PersisterHostOptions>() ?? new PersisterHostOptions();
            builder.WebHost.UseUrls(options.MetricsUrl);
        }
        builder.Services.AddOptions<PersisterHostOptions>().BindConfiguration(PersisterHostOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddFlashSaleHealthChecks();
        builder.AddFlashSaleTelemetry("flashsale-persister");
        return builder;
    }

    public static WebApplication MapPersisterOperations(this WebApplication app)
    {
        app.MapFlashSaleHealth();
        app.MapFlashSaleMetrics();
        return app;
    }
}
