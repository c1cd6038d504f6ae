using FlashSale.Engine.Backpressure;
using FlashSale.Engine.Kafka;
using FlashSale.Engine.Telemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace FlashSale.Engine.Relay;

public static class RelaySetup
{
    /// <summary>The outbox relay (Redis outbox streams → Kafka), unless <c>Relay:Enabled</c> is false.</summary>
    public static IHostApplicationBuilder AddRelay(this IHostApplicationBuilder builder)
    {
        builder.AddEngineCore();
        AddRelayOptions(builder.Services);
        if (builder.Configuration.GetValue(RelayOptions.Section + ":" + nameof(RelayOptions.Enabled), true))
        {
            builder.AddEventProducer();
            builder.Services.AddHostedService<OutboxRelay>();
        }
        return builder;
    }

    /// <summary>
    /// Durable acknowledgement: the Ingress produces each reservation's event itself and answers once Kafka confirmed
    /// it (<see cref="DurableAcknowledger"/>). With it registered, the relay leaves fresh entries to the Ingress.
    /// </summary>
    public static IHostApplicationBuilder AddDurableAcks(this IHostApplicationBuilder builder)
    {
        builder.AddEngineCore();
        AddRelayOptions(builder.Services);
        builder.AddEventProducer();
        builder.Services.TryAddSingleton<DurableAcknowledger>();
        return builder;
    }

    /// <summary>The process's one producer of reservation events, shared by the relay and the acknowledger.</summary>
    private static void AddEventProducer(this IHostApplicationBuilder builder)
    {
        builder.AddKafka();
        builder.Services.AddEngineMetrics<RelayMetrics>();
        builder.Services.TryAddSingleton<DeliveryStats>();
        builder.Services.TryAddSingleton<EventProducer>();
    }

    // Binding twice (relay and acknowledger in one host) only repeats the same configuration.
    private static void AddRelayOptions(IServiceCollection services)
        => services.AddOptions<RelayOptions>().BindConfiguration(RelayOptions.Section).ValidateDataAnnotations().ValidateOnStart();
}
