using FlashSale.Engine.Fencing;
using FlashSale.Engine.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace FlashSale.Engine.Reservations;

public static class ReservationsSetup
{
    /// <summary>Deciding reservations: order numbers, the sold-out cache and the listener that keeps it fresh, the decision itself.</summary>
    public static IHostApplicationBuilder AddReservations(this IHostApplicationBuilder builder)
    {
        builder.AddEngineCore();
        builder.AddRedisFencing();
        var services = builder.Services;
        services.AddEngineMetrics<ReservationMetrics>();
        services.AddSingleton(sp => new OrderNumberGenerator(
            sp.GetRequiredService<IOptions<EngineOptions>>().Value.NodeId, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<SoldOutCache>();
        services.AddSingleton<ReservationService>();
        services.AddHostedService<StockSignalListener>();
        return builder;
    }
}
