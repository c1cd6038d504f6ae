using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace FlashSale.Engine.Kafka;

public static class KafkaSetup
{
    /// <summary>Kafka options (validated at start) for the relay and the persister.</summary>
    public static IHostApplicationBuilder AddKafka(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<KafkaOptions>().BindConfiguration(KafkaOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        return builder;
    }
}
