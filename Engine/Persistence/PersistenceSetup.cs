using FlashSale.Engine.Kafka;
using FlashSale.Engine.Storage;
using FlashSale.Engine.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace FlashSale.Engine.Persistence;

public static class PersistenceSetup
{
    /// <summary>The batch writer and the counter applier: what writes reservations into the shards.</summary>
    public static IHostApplicationBuilder AddOrderWriter(this IHostApplicationBuilder builder)
    {
        builder.AddEngineCore();
        builder.AddShards();
        builder.Services.AddEngineMetrics<PersistenceMetrics>();
        builder.Services.TryAddSingleton<OrderBatchWriter>();
        builder.Services.TryAddSingleton<CounterApplier>();
        builder.Services.TryAddSingleton<CouponCounterApplier>();
        return builder;
    }

    /// <summary>The consumer of the reservations topic that writes every event as exactly one order row.</summary>
    public static IHostApplicationBuilder AddPersistence(this IHostApplicationBuilder builder)
    {
        builder.AddKafka();
        builder.AddOrderWriter();
        builder.Services.AddOptions<PersistenceOptions>().BindConfiguration(PersistenceOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddHostedService<ReservationConsumer>();
        builder.Services.AddHostedService<CounterLoop>();
        return builder;
    }
}
