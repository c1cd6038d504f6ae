using FlashSale.Engine.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FlashSale.Engine.Pipeline;

public static class PipelineSetup
{
    /// <summary>Kafka options (validated at start) for the relay and the persister.</summary>
    public static IHostApplicationBuilder AddFlashSaleKafka(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<KafkaOptions>().BindConfiguration(KafkaOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        return builder;
    }

    /// <summary>The order shards from <c>Shards:ConnectionStrings</c>, and the writers that use them.</summary>
    public static IHostApplicationBuilder AddFlashSaleShards(this IHostApplicationBuilder builder)
    {
        // Read when first needed, so a tool command that does not touch the shards runs without them.
        var configuration = builder.Configuration;
        builder.Services.AddSingleton(_ =>
        {
            var shards = configuration.GetSection(ShardOptions.Section).Get<ShardOptions>()?.ConnectionStrings ?? [];
            if (shards.Count == 0 || shards.Any(string.IsNullOrWhiteSpace))
            {
                throw new InvalidOperationException("Configuration Shards:ConnectionStrings must list at least one shard database.");
            }
            return new ShardDataSources(shards);
        });
        builder.Services.AddSingleton<OrderBatchWriter>();
        builder.Services.AddSingleton<CounterApplier>();
        builder.Services.AddSingleton<Orders.OrderQueries>();
        builder.Services.AddSingleton<Orders.OrderLifecycle>();
        builder.Services.AddOptions<Reconciliation.ReconcilerOptions>()
            .BindConfiguration(Reconciliation.ReconcilerOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<Reconciliation.Reconciler>();
        return builder;
    }

    /// <summary>Applies the shard schema to every shard database.</summary>
    public static async Task MigrateShardsAsync(this IServiceProvider services, CancellationToken cancellationToken = default)
    {
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(SchemaMigrator));
        foreach (var connectionString in services.GetRequiredService<ShardDataSources>().ConnectionStrings)
        {
            await SchemaMigrator.MigrateAsync(connectionString, ShardDataSources.SchemaKind, logger, cancellationToken);
        }
    }
}
