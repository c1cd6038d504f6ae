using System.ComponentModel.DataAnnotations;
using FlashSale.Engine.Auth;
using FlashSale.Engine.Buckets;
using FlashSale.Engine.Redis;
using FlashSale.Engine.Storage;
using FlashSale.Engine.Telemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using StackExchange.Redis.KeyspaceIsolation;

namespace FlashSale.Engine;

public sealed class EngineOptions
{
    public const string Section = "Engine";

    /// <summary>This process's node id in order numbers and relay consumer names; every Ingress of a deployment needs its own.</summary>
    [Range(0, OrderNumbers.MaxNode)]
    public int NodeId { get; set; }
}

/// <summary>How the engine uses its Redis beyond the connection string (section <c>Redis</c>).</summary>
public sealed class RedisOptions
{
    public const string Section = "Redis";

    /// <summary>
    /// Prepended to every key the engine reads or writes (not to the stock channel), so that several engines — a test
    /// suite's fixtures, two deployments — share one Redis server or cluster without seeing each other's keys. On a
    /// cluster this is the only way: it has database 0 alone. No braces: a SKU's hash tag must stay the key's first
    /// <c>{…}</c>, or its keys would no longer share a slot.
    /// </summary>
    [RegularExpression(@"^[^{}]{0,64}$", ErrorMessage = "Redis:KeyPrefix is at most 64 characters and has no '{' or '}'.")]
    public string KeyPrefix { get; set; } = "";

    /// <summary>
    /// Which threads complete the connection's I/O: <see cref="RedisIoThreads.ThreadPool"/>, the .NET thread pool, or
    /// <see cref="RedisIoThreads.Dedicated"/>, StackExchange.Redis's own pool of ten workers shared by every connection.
    /// The dedicated pool guards against code that blocks thread-pool threads on Redis (the engine never does: it awaits);
    /// on few cores its ten workers spin and contend with the thread pool's for every reply (see docs/performance.md, "Group commit").
    /// </summary>
    public RedisIoThreads IoThreads { get; set; } = RedisIoThreads.ThreadPool;
}

/// <summary>The threads that complete a Redis connection's reads and writes (<see cref="RedisOptions.IoThreads"/>).</summary>
public enum RedisIoThreads
{
    ThreadPool,
    Dedicated,
}

/// <summary>
/// The infrastructure every behaviour shares: the Redis connection and its scripts, the catalog database,
/// the clock. Each behaviour registers itself (<c>AddReservations</c>, <c>AddRelay</c>, <c>AddPersistence</c>,
/// <c>AddLifecycle</c>, <c>AddReconciliation</c>, <c>AddCampaigns</c>, <c>AddOrderQueries</c>), on top of this.
/// </summary>
public static class EngineSetup
{
    /// <summary>
    /// Redis and the catalog database, from <c>ConnectionStrings:Redis</c> and <c>ConnectionStrings:Catalog</c>. The
    /// Redis connection string names one server or any nodes of a Redis Cluster (StackExchange.Redis finds the rest);
    /// behaviours use the registered <see cref="IDatabase"/>, which carries <see cref="RedisOptions.KeyPrefix"/>.
    /// </summary>
    public static IHostApplicationBuilder AddEngineCore(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        if (services.Any(s => s.ServiceType == typeof(SkuScripts)))
        {
            return builder;
        }
        services.AddOptions<EngineOptions>().BindConfiguration(EngineOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<RedisOptions>().BindConfiguration(RedisOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.AddEngineMetrics<ScriptMetrics>();
        services.AddSingleton<SkuScripts>();
        services.AddStockBuckets();
        services.AddSingleton<CouponScripts>();

        // Connection strings are read when first needed, so a tool command that needs neither still runs without them.
        var configuration = builder.Configuration;
        services.AddSingleton<IConnectionMultiplexer>(sp =>
        {
            var options = ConfigurationOptions.Parse(Required(configuration, "Redis"));
            // Start even while Redis is down; readiness reports it and calls fail fast until it is back.
            options.AbortOnConnectFail = false;
            if (sp.GetRequiredService<IOptions<RedisOptions>>().Value.IoThreads == RedisIoThreads.ThreadPool)
            {
                options.SocketManager = SocketManager.ThreadPool;
            }
            return ConnectionMultiplexer.Connect(options);
        });
        // The engine's keys, under Redis:KeyPrefix when one is set: every behaviour reads and writes through this one.
        services.AddSingleton<IDatabase>(sp =>
        {
            var database = sp.GetRequiredService<IConnectionMultiplexer>().GetDatabase();
            var prefix = sp.GetRequiredService<IOptions<RedisOptions>>().Value.KeyPrefix;
            return prefix.Length == 0 ? database : database.WithKeyPrefix(prefix);
        });
        services.AddSingleton(_ => new CatalogDataSource(Required(configuration, "Catalog")));
        return builder;
    }

    /// <summary>Bearer-token settings (validated at start) and the token issuer, for the hosts and tools that need them.</summary>
    public static IHostApplicationBuilder AddFlashSaleTokens(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton(sp => sp.GetRequiredService<IOptions<AuthOptions>>().Value);
        builder.Services.AddSingleton<TokenIssuer>();
        return builder;
    }

    /// <summary>Applies the catalog schema; hosts call it before they serve.</summary>
    public static Task MigrateCatalogAsync(this IServiceProvider services, CancellationToken cancellationToken = default)
        => SchemaMigrator.MigrateAsync(
            services.GetRequiredService<CatalogDataSource>().ConnectionString,
            SchemaMigrator.Catalog,
            services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(SchemaMigrator)),
            cancellationToken);

    private static string Required(IConfiguration configuration, string name)
        => configuration.GetConnectionString(name) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"Configuration ConnectionStrings:{name} is missing or empty.");
}
