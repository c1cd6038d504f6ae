using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace FlashSale.Engine.Fencing;

public static class FencingSetup
{
    /// <summary>
    /// The watch on Redis's identity, run by every process that decides or repairs (Ingress, Persister): it fences
    /// every live SKU of a Redis that is not the trusted one, and keeps reservations back until it has looked.
    /// </summary>
    public static IHostApplicationBuilder AddRedisFencing(this IHostApplicationBuilder builder)
    {
        builder.AddEngineCore();
        var services = builder.Services;
        if (services.Any(s => s.ServiceType == typeof(RedisIdentityGate)))
        {
            return builder;
        }
        services.AddOptions<FencingOptions>().BindConfiguration(FencingOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<RedisIdentityGate>();
        services.TryAddSingleton<TrustedRedisStore>();
        services.AddSingleton<RedisIdentityWatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<RedisIdentityWatcher>());
        return builder;
    }
}
