using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FlashSale.Engine.Storage;

public static class ShardSetup
{
    /// <summary>The order shards' connection pools, from <c>Shards:ConnectionStrings</c>.</summary>
    public static IHostApplicationBuilder AddShards(this IHostApplicationBuilder builder)
    {
        // Read when first needed, so a tool command that does not touch the shards runs without them.
        var configuration = builder.Configuration;
        builder.Services.TryAddSingleton(_ =>
        {
            var shards = configuration.GetSection(ShardOptions.Section).Get<ShardOptions>()?.ConnectionStrings ?? [];
            if (shards.Count == 0 || shards.Any(string.IsNullOrWhiteSpace))
            {
                throw new InvalidOperationException("Configuration Shards:ConnectionStrings must list at least one shard database.");
            }
            return new ShardDataSources(shards);
        });
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
