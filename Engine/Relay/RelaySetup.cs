using FlashSale.Engine.Kafka;
using FlashSale.Engine.Telemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace FlashSale.Engine.Relay;

public static class RelaySetup
{
    /// <summary>The outbox relay (Redis outbox streams → Kafka), unless <c>Relay:Enabled</c> is false.</summary>
    public static IHostApplicationBuilder AddRelay(this IHostApplicationBuilder builder)
    {
        builder.AddEngineCore();
        builder.Services.AddOptions<RelayOptions>().BindConfiguration(RelayOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        if (builder.Configuration.GetValue(RelayOptions.Section + ":" + nameof(RelayOptions.Enabled), true))
        {
            builder.AddKafka();
            builder.Services.AddEngineMetrics<RelayMetrics>();
            builder.Services.AddHostedService<OutboxRelay>();
        }
        return builder;
    }
}
