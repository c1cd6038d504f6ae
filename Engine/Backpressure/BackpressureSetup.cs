using FlashSale.Engine.Kafka;
using FlashSale.Engine.Persistence;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace FlashSale.Engine.Backpressure;

public static class BackpressureSetup
{
    /// <summary>
    /// The backpressure monitor (unless <c>Backpressure:Enabled</c> is false), with the consumer-lag probe when the host
    /// talks to Kafka (<c>Kafka:BootstrapServers</c> set).
    /// </summary>
    public static IHostApplicationBuilder AddBackpressure(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<BackpressureOptions>().BindConfiguration(BackpressureOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton<DeliveryStats>();
        if (!builder.Configuration.GetValue(BackpressureOptions.Section + ":" + nameof(BackpressureOptions.Enabled), true))
        {
            return builder;
        }
        if (!string.IsNullOrWhiteSpace(builder.Configuration[KafkaOptions.Section + ":" + nameof(KafkaOptions.BootstrapServers)]))
        {
            builder.AddKafka();
            // The Persisters' section: the same Persister:ConsumerGroup they consume with.
            services.AddOptions<PersistenceOptions>().BindConfiguration(PersistenceOptions.Section).ValidateDataAnnotations().ValidateOnStart();
            services.TryAddSingleton<ConsumerLagProbe>();
        }
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<BackpressureMonitor>();
        services.AddHostedService(sp => sp.GetRequiredService<BackpressureMonitor>());
        return builder;
    }
}
