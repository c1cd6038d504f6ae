using FlashSale.Engine.Pipeline;

namespace FlashSale.Ingress.Relay;

internal static class RelaySetup
{
    public static IHostApplicationBuilder AddOutboxRelay(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<RelayOptions>().BindConfiguration(RelayOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        if (builder.Configuration.GetValue(RelayOptions.Section + ":" + nameof(RelayOptions.Enabled), true))
        {
            builder.AddFlashSaleKafka();
            builder.Services.AddHostedService<OutboxRelay>();
        }
        return builder;
    }
}
