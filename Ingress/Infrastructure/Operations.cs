using FlashSale.Engine.Health;
using FlashSale.Engine.Observability;
using FlashSale.Engine.Redis;
using FlashSale.Engine.Reservations;
using StackExchange.Redis;

namespace FlashSale.Ingress.Infrastructure;

public static class Operations
{
    public static IHostApplicationBuilder AddIngressOperations(this IHostApplicationBuilder builder)
    {
        builder.Services.AddFlashSaleHealthChecks();
        builder.AddFlashSaleTelemetry("flashsale-ingress");
        builder.Services.AddOpenApi();
        builder.Services.AddHostedService<StockSignalListener>();
        return builder;
    }

    public static IEndpointRouteBuilder MapIngressOperations(this IEndpointRouteBuilder app)
    {
        app.MapFlashSaleHealth();
        app.MapFlashSaleMetrics();
        app.MapOpenApi();
        return app;
    }
}

/// <summary>Drops a cached sold-out answer as soon as any process says stock came back.</summary>
internal sealed class StockSignalListener(IConnectionMultiplexer redis, SoldOutCache soldOut) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
        => redis.GetSubscriber().SubscribeAsync(StockSignals.Channel, (_, message) =>
        {
            if (SkuKeys.TryParseMember(message.ToString(), out var sku))
            {
                soldOut.Forget(sku.CampaignId, sku.SkuId);
            }
        });

    public Task StopAsync(CancellationToken cancellationToken) => redis.GetSubscriber().UnsubscribeAsync(StockSignals.Channel);
}
