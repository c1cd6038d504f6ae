using FlashSale.Warmup.Campaigns;
using Microsoft.Extensions.Configuration;
using Spectre.Console.Cli;

namespace FlashSale.Warmup.Infrastructure;

/// <summary>
/// Outside Development, appsettings.json leaves the connection strings empty. An empty Redis one
/// would surface as an ArgumentException from the Redis client while the command is being created,
/// so this runs first, before any command exists, and names the setting to pass instead.
/// </summary>
internal sealed class ConnectionStringCheck(IConfiguration configuration) : ICommandInterceptor
{
    public void Intercept(CommandContext context, CommandSettings settings)
    {
        string[] required = settings switch
        {
            ImportSettings => ["Catalog"],
            CampaignSettings => ["Catalog", "Redis"],
            _ => [],
        };
        if (settings is Stock.ReconcileSettings && string.IsNullOrWhiteSpace(configuration["Shards:ConnectionStrings:0"]))
        {
            throw new MissingConfigurationException("Shards:ConnectionStrings:0");
        }
        foreach (var name in required)
        {
            if (string.IsNullOrWhiteSpace(configuration.GetConnectionString(name)))
            {
                throw new MissingConfigurationException($"ConnectionStrings:{name}");
            }
        }
    }
}

/// <summary>A setting the command needs is empty, as it is in appsettings.json outside Development.</summary>
internal sealed class MissingConfigurationException(string key)
    : InvalidOperationException($"{key} is not set; outside Development pass it as the environment variable {key.Replace(":", "__", StringComparison.Ordinal)}.");
