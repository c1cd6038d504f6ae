using System.ComponentModel.DataAnnotations;
using FlashSale.Engine.Auth;
using FlashSale.Engine.Campaigns;
using FlashSale.Engine.Observability;
using FlashSale.Engine.Orders;
using FlashSale.Engine.Reservations;
using FlashSale.Engine.Stock;
using FlashSale.Engine.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace FlashSale.Engine;

public sealed class EngineOptions
{
    public const string Section = "Engine";

    /// <summary>This process's node id in order numbers; every Ingress of a deployment needs its own.</summary>
    [Range(0, OrderNumberGenerator.MaxNode)]
    public int NodeId { get; set; }
}

public static class EngineSetup
{
    /// <summary>Redis, the catalog database and the engine's services, from <c>ConnectionStrings:Redis</c> and <c>ConnectionStrings:Catalog</c>.</summary>
    public static IHostApplicationBuilder AddFlashSaleEngine(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<EngineOptions>().BindConfiguration(EngineOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<CampaignOptions>().BindConfiguration(CampaignOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.AddEngineMetrics();

        // Connection strings are read when first needed, so a tool command that needs neither still runs without them.
        var configuration = builder.Configuration;
        services.AddSingleton<IConnectionMultiplexer>(_ =>
        {
            var options = ConfigurationOptions.Parse(Required(configuration, "Redis"));
            // Start even while Redis is down; readiness reports it and calls fail fast until it is back.
            options.AbortOnConnectFail = false;
            return ConnectionMultiplexer.Connect(options);
        });
        services.AddSingleton(_ => new CatalogDataSource(Required(configuration, "Catalog")));

        services.AddSingleton(sp => new OrderNumberGenerator(
            sp.GetRequiredService<IOptions<EngineOptions>>().Value.NodeId, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<CampaignStore>();
        services.AddSingleton<StockService>();
        services.AddSingleton<SoldOutCache>();
        services.AddSingleton<ReservationService>();
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
