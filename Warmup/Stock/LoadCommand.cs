using System.ComponentModel;
using FlashSale.Contracts;
using FlashSale.Engine.Campaigns;
using FlashSale.Engine.Coupons;
using FlashSale.Warmup.Campaigns;
using FlashSale.Warmup.Infrastructure;
using Spectre.Console;
using Spectre.Console.Cli;

namespace FlashSale.Warmup.Stock;

internal sealed class LoadSettings : CampaignSettings
{
    [CommandOption("--force")]
    [Description("Reload SKUs that are already live: each SKU's stock becomes its total minus the units buyers already hold.")]
    public bool Force { get; init; }
}

/// <summary>Loads a stored campaign's stock into Redis, where reservations are decided.</summary>
internal sealed class LoadCommand(CatalogSchema schema, StockService stock, CouponStockService coupons) : AsyncCommand<LoadSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, LoadSettings settings, CancellationToken cancellationToken)
    {
        var campaign = await schema.StoredCampaignAsync(settings.CampaignId, "; import its definition first", cancellationToken);
        if (campaign is null)
        {
            return ExitCodes.Failed;
        }

        var results = await ProgressTaskReporter.RunAsync($"Loading {campaign.Skus.Count} SKU(s)", campaign.Skus.Count,
            progress => stock.WarmAsync(campaign, settings.Force, progress, cancellationToken));

        var live = results.Where(r => r.Outcome == WarmupOutcome.AlreadyLive).ToList();
        if (live.Count > 0)
        {
            ReportAlreadyLive(campaign, results, live);
            return ExitCodes.AlreadyLive;
        }

        var table = new Table()
            .AddColumn("SKU")
            .AddColumn(new TableColumn("Total").RightAligned())
            .AddColumn(new TableColumn("Loaded available").RightAligned());
        foreach (var result in results)
        {
            table.AddRow(result.SkuId.ToString(Formats.Culture), Formats.Units(campaign.FindSku(result.SkuId)?.Stock), Formats.Units(result.Available));
        }
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLineInterpolated(
            $"[green]Loaded[/] {results.Count} SKU(s) of [bold]{campaign.CampaignId}[/]: {Formats.Units(results.Sum(r => (long)r.Available))} unit(s) available.");
        // The coupon pools go live with the stock; a pool live already keeps its count unless --force.
        var pools = await coupons.WarmAsync(campaign, settings.Force);
        foreach (var pool in pools)
        {
            if (pool.Outcome == WarmupOutcome.AlreadyLive)
            {
                Output.Warn($"Coupon pool {pool.CouponId} was already live ({Formats.Units(pool.Available)} available); left as it is (use --force to reload it).");
            }
            else
            {
                AnsiConsole.MarkupLineInterpolated($"[green]Loaded[/] coupon pool [bold]{pool.CouponId}[/]: {Formats.Units(pool.Available)} coupon(s) available.");
            }
        }
        if (settings.Force)
        {
            AnsiConsole.MarkupLine("[grey]Forced reload: units that buyers already hold were left out of the available stock.[/]");
        }
        return ExitCodes.Ok;
    }

    private static void ReportAlreadyLive(CampaignDefinition campaign, IReadOnlyList<SkuWarmup> results, List<SkuWarmup> live)
    {
        var table = new Table()
            .AddColumn("Live SKU")
            .AddColumn(new TableColumn("Total").RightAligned())
            .AddColumn(new TableColumn("Available in Redis").RightAligned());
        foreach (var sku in live)
        {
            table.AddRow(sku.SkuId.ToString(Formats.Culture), Formats.Units(campaign.FindSku(sku.SkuId)?.Stock), Formats.Units(sku.Available));
        }
        Output.Error.Write(table);
        Output.Fail(
            $"Campaign {campaign.CampaignId}: {live.Count} SKU(s) already live in Redis; loading again would hand out its stock a second time; "
            + "use --force to reload (stock becomes total minus units already reserved).");

        // The engine checks before it writes, but a second operator loading at the same moment can get
        // past that check too; then the script refuses the SKUs already written and the rest are loaded.
        var loaded = results.Count - live.Count;
        if (loaded > 0)
        {
            Output.Warn($"{loaded} other SKU(s) were loaded by this run: another load of the same campaign ran at the same time.");
        }
        else
        {
            Output.Note("Nothing was written to Redis.");
        }
    }
}
