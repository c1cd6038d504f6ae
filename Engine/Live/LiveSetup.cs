using FlashSale.Engine.Kafka;
using FlashSale.Engine.Persistence;
using FlashSale.Engine.Reconciliation;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace FlashSale.Engine.Live;

public static class LiveSetup
{
    /// <summary>
    /// The Ingress's part of the operator console: its live counts added to the deployment's once a second
    /// (<see cref="LivePublisher"/>), and the live view the console streams (<see cref="LiveFeed"/>).
    /// </summary>
    public static IHostApplicationBuilder AddLiveView(this IHostApplicationBuilder builder)
    {
        builder.AddEngineCore();
        builder.AddReconciliation();
        // The Persisters' consumer group, whose committed offsets give the Kafka → MySQL backlog; an Ingress without Kafka
        // (relay off, decided acknowledgement) shows none.
        if (!string.IsNullOrWhiteSpace(builder.Configuration[$"{KafkaOptions.Section}:{nameof(KafkaOptions.BootstrapServers)}"]))
        {
            builder.AddKafka();
            builder.Services.AddOptions<PersistenceOptions>().BindConfiguration(PersistenceOptions.Section).ValidateDataAnnotations().ValidateOnStart();
            builder.Services.TryAddSingleton<KafkaCatchUp>();
        }
        builder.Services.TryAddSingleton<LiveCounters>();
        builder.Services.AddHostedService<LivePublisher>();
        builder.Services.TryAddSingleton<LiveFeed>();
        return builder;
    }
}
