using FlashSale.Engine.Campaigns;
using FlashSale.Engine.Storage;
using Microsoft.Extensions.Logging;

namespace FlashSale.Warmup.Infrastructure;

/// <summary>
/// Operators run Warmup before any Ingress is up, so Warmup applies the catalog schema itself
/// rather than depend on an Ingress having started once.
/// </summary>
internal sealed class CatalogSchema(CatalogDataSource catalog, ILoggerFactory loggers)
{
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
