using FlashSale.Engine.Backpressure;
using FlashSale.Engine.Telemetry;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace FlashSale.Ingress.Admission;

/// <summary>
/// Admission control on the reservation endpoint: rate limits (ASP.NET Core's rate limiting middleware with
/// <see cref="ReservationLimiter"/>), the client address behind known proxies, and backpressure from the pipeline
/// (<see cref="BackpressureMonitor"/>, answered by the reservation itself).
/// </summary>
public static class AdmissionSetup
{
    public static IHostApplicationBuilder AddAdmissionControl(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        builder.AddBackpressure();
        services.AddSingleton<BusyAnswer>();
        services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<RateLimitOptions>, RateLimitOptionsValidator>();
        services.AddSingleton<CampaignLimitOverrides>();
        services.AddEngineMetrics<AdmissionMetrics>();
        var enabled = builder.Configuration.GetValue(RateLimitOptions.Section + ":" + nameof(RateLimitOptions.Enabled), true);
        if (enabled)
        {
            services.AddHostedService<CampaignLimitRefresher>();
        }
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<RateLimitOptions>, CampaignLimitOverrides>((options, limits, overrides) =>
        {
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.OnRejected = RateLimitRejection.OnRejectedAsync;
            if (limits.Value.Enabled)
            {
                options.GlobalLimiter = new ReservationLimiter(limits.Value, overrides);
            }
        });
        services.AddOptions<ForwardedHeadersOptions>().Configure<IConfiguration>((options, configuration)
            => KnownProxies.Apply(options, configuration.GetSection(KnownProxies.Section)));
        return builder;
    }

    /// <summary>First in the pipeline: every later step (logs, limits) sees the client's address, not the proxy's.</summary>
    public static IApplicationBuilder UseClientAddress(this IApplicationBuilder app) => app.UseForwardedHeaders();

    /// <summary>After authentication and authorization: the limits key on the buyer and answer only callers with a valid token.</summary>
    public static IApplicationBuilder UseReservationRateLimits(this IApplicationBuilder app) => app.UseRateLimiter();
}
