using FlashSale.Engine.Health;
using FlashSale.Engine.Telemetry;

namespace FlashSale.Ingress.Infrastructure;

public static class Operations
{
    public static IHostApplicationBuilder AddIngressOperations(this IHostApplicationBuilder builder)
    {
        builder.Services.AddFlashSaleHealthChecks();
        builder.AddFlashSaleTelemetry("flashsale-ingress");
        builder.Services.AddOpenApi();
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
