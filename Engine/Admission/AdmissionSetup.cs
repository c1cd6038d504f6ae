using FlashSale.Engine.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace FlashSale.Engine.Admission;

public static class AdmissionSetup
{
    /// <summary>
    /// The waiting rooms of queue-mode campaigns: joining, polls and token checks (<see cref="WaitingRoom"/>), the admitting
    /// loop (one process at a time, under a lease) and the counting of used tokens. Needs <c>Admission:SigningKey</c>.
    /// </summary>
    public static IHostApplicationBuilder AddAdmission(this IHostApplicationBuilder builder)
    {
        builder.AddEngineCore();
        var services = builder.Services;
        services.AddOptions<AdmissionOptions>().BindConfiguration(AdmissionOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddEngineMetrics<AdmissionMetrics>();
        services.AddSingleton<AdmissionTokens>();
        services.AddSingleton<WaitingRoom>();
        services.AddHostedService<Admitter>();
        services.AddHostedService<AdmissionUsage>();
        return builder;
    }
}
