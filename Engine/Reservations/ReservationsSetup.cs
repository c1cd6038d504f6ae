using FlashSale.Engine.Coupons;
using FlashSale.Engine.Fencing;
using FlashSale.Engine.Relay;
using FlashSale.Engine.Telemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace FlashSale.Engine.Reservations;

public static class ReservationsSetup
{
    /// <summary>
    /// Deciding reservations: order numbers, the sold-out cache and the listener that keeps it fresh, the decision itself,
    /// and with <c>Reservations:Acknowledge</c> = <c>Durable</c> (the default) the durable acknowledgement through Kafka.
    /// </summary>
    public static IHostApplicationBuilder AddReservations(this IHostApplicationBuilder builder)
    {
        builder.AddEngineCore();
        builder.AddRedisFencing();
        var services = builder.Services;
        services.AddOptions<ReservationOptions>().BindConfiguration(ReservationOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        var acknowledge = builder.Configuration.GetValue(ReservationOptions.Section + ":" + nameof(ReservationOptions.Acknowledge), AcknowledgeMode.Durable);
        if (acknowledge == AcknowledgeMode.Durable)
        {
            builder.AddDurableAcks();
        }
        services.AddEngineMetrics<ReservationMetrics>();
        services.AddSingleton(sp => new OrderNumberGenerator(
            sp.GetRequiredService<IOptions<EngineOptions>>().Value.NodeId, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<SoldOutCache>();
        builder.AddCouponReservations();
        services.AddSingleton<ReservationService>();
        services.AddHostedService<StockSignalListener>();
        return builder;
    }
}
