namespace FlashSale.Persister.Pipeline;

internal static class PersisterSetup
{
    public static IHostApplicationBuilder AddPersisterPipeline(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<PersisterOptions>().BindConfiguration(PersisterOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddHostedService<ReservationConsumer>();
        builder.Services.AddHostedService<PaymentTimeoutService>();
        builder.Services.AddHostedService<ReconcilerService>();
        return builder;
    }
}
