using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FlashSale.Warmup.Infrastructure;

internal static class WarmupHost
{
    public const string EnvironmentVariable = "DOTNET_ENVIRONMENT";

    public static HostApplicationBuilder CreateBuilder()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            // appsettings*.json are copied next to the binary; the working directory differs between
            // `dotnet run --project Warmup` (the repo root) and running from the output folder.
            ContentRootPath = AppContext.BaseDirectory,
            // An operator's tool is mostly run on a developer's machine against dev/services.sh;
            // production operators set DOTNET_ENVIRONMENT=Production and pass their own secrets.
            EnvironmentName = string.IsNullOrEmpty(Environment.GetEnvironmentVariable(EnvironmentVariable))
                ? Environments.Development
                : null,
        });

        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        // stdout carries the results (scripts capture `token`), so log lines go to stderr.
        builder.Logging.AddConsole(options => options.LogToStandardErrorThreshold = LogLevel.Trace);
        return builder;
    }
}
