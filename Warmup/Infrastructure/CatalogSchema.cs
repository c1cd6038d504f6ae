using FlashSale.Engine.Campaigns;
using FlashSale.Engine.Storage;
using Microsoft.Extensions.Logging;

namespace FlashSale.Warmup.Infrastructure;

/// <summary>
/// Operators run Warmup before any Ingress is up, so Warmup applies the catalog schema itself
/// rather than depend on an Ingress having started once.
/// </summary>
internal sealed class CatalogSchema(CatalogDataSource catalog, CampaignStore campaigns, ILoggerFactory loggers)
{
    /// <summary>Applies the schema and reads a stored campaign; says so on stderr when there is none.</summary>
    public async Task<CampaignDefinition?> StoredCampaignAsync(string campaignId, string hint, CancellationToken cancellationToken)
    {
        await ApplyAsync(cancellationToken);
        var campaign = await campaigns.GetAsync(campaignId, cancellationToken);
        if (campaign is null)
        {
            Output.Fail($"Campaign {campaignId} does not exist in the catalog{hint}.");
        }
        return campaign;
    }

    public async Task ApplyAsync(CancellationToken cancellationToken)
    {
        var applied = await SchemaMigrator.MigrateAsync(
            catalog.ConnectionString, SchemaMigrator.Catalog, loggers.CreateLogger(typeof(SchemaMigrator)), cancellationToken);
        if (applied > 0)
        {
            Output.Note($"Applied {applied} catalog schema migration(s).");
        }
    }
}
