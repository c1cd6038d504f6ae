using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace FlashSale.Engine.Telemetry;

/// <summary>
/// OpenTelemetry for the engine's hosts: the engine's metrics, ASP.NET Core, HttpClient and runtime
/// metrics for Prometheus to scrape at <c>/metrics</c>, and traces exported over OTLP only when an
/// endpoint is configured (<c>OpenTelemetry:OtlpEndpoint</c>, or the standard
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>/<c>OTEL_EXPORTER_OTLP_TRACES_ENDPOINT</c>). Without one no
/// tracer listens, so the engine's spans are never even created.
/// </summary>
public static class TelemetrySetup
{
    public const string OtlpEndpointKey = "OpenTelemetry:OtlpEndpoint";

    public const string MetricsPath = "/metrics";

    /// <summary>Meters recorded beyond the default ones, by name (e.g. <c>Microsoft.AspNetCore.RateLimiting</c>).</summary>
    public const string ExtraMetersKey = "OpenTelemetry:ExtraMeters";

    /// <summary>
    /// The ASP.NET Core meters recorded by default: requests (<c>http.server.*</c>), connections (<c>kestrel.*</c>) and
    /// unhandled exceptions. The framework's other meters (routing, authentication, authorization, rate limiting, the
    /// memory pool) record several measurements on every request: with them, 4.9% of the Ingress's CPU samples on the
    /// sold-out path were in OpenTelemetry, without them 2.2%. <see cref="ExtraMetersKey"/> turns them on where wanted.
    /// </summary>
    public static readonly string[] AspNetCoreMeters = ["Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "Microsoft.AspNetCore.Diagnostics"];

    /// <summary>
    /// A behaviour's metrics class, created once; hosts without an exporter (tools, benchmarks) record into nothing.
    /// </summary>
    public static IServiceCollection AddEngineMetrics<TMetrics>(this IServiceCollection services)
        where TMetrics : class
    {
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<TMetrics>();
        return services;
    }

    public static IHostApplicationBuilder AddFlashSaleTelemetry(this IHostApplicationBuilder builder, string serviceName)
    {
        builder.Services.AddMetrics();
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(serviceName))
            .WithMetrics(metrics => metrics
                .AddMeter(EngineTelemetry.Name)
                .AddMeter(AspNetCoreMeters)
                .AddMeter(builder.Configuration.GetSection(ExtraMetersKey).Get<string[]>() ?? [])
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddPrometheusExporter());

        var configured = builder.Configuration[OtlpEndpointKey];
        if (!string.IsNullOrWhiteSpace(configured) && !Uri.TryCreate(configured, UriKind.Absolute, out _))
        {
            throw new InvalidOperationException($"Configuration {OtlpEndpointKey} must be an absolute URI such as http://collector:4317, not '{configured}'.");
        }
        var fromEnvironment = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"])
            || !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]);
        if (!string.IsNullOrWhiteSpace(configured) || fromEnvironment)
        {
            telemetry.WithTracing(tracing => tracing
                .AddSource(EngineTelemetry.Name)
                .AddAspNetCoreInstrumentation(options => options.Filter = context => !IsOperational(context.Request.Path))
                .AddHttpClientInstrumentation()
                .AddOtlpExporter(options =>
                {
                    // Otherwise the exporter reads the standard OTEL_EXPORTER_OTLP_* variables itself.
                    if (!string.IsNullOrWhiteSpace(configured))
                    {
                        options.Endpoint = new Uri(configured);
                    }
                }));
        }
        return builder;
    }

    /// <summary>The Prometheus scrape endpoint; its own requests stay out of the HTTP metrics.</summary>
    public static IEndpointConventionBuilder MapFlashSaleMetrics(this IEndpointRouteBuilder app)
        => app.MapPrometheusScrapingEndpoint(MetricsPath).DisableHttpMetrics();

    private static bool IsOperational(PathString path)
        => path.StartsWithSegments(MetricsPath, StringComparison.Ordinal) || path.StartsWithSegments("/health", StringComparison.Ordinal);
}
