using FlashSale.Contracts;
using FlashSale.Engine.Campaigns;
using FlashSale.Engine.Coupons;
using FlashSale.Warmup.Campaigns;
using FlashSale.Warmup.Infrastructure;
using Spectre.Console;
using Spectre.Console.Cli;

namespace FlashSale.Warmup.Stock;

/// <summary>The campaign's SKUs as Redis holds them right now.</summary>
internal sealed class StatusCommand(CatalogSchema schema, StockService stock, CouponStockService coupons) : AsyncCommand<CampaignSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, CampaignSettings settings, CancellationToken cancellationToken)
    {
        var campaign = await schema.StoredCampaignAsync(settings.CampaignId, "", cancellationToken);
        if (campaign is null)
        {
            return ExitCodes.Failed;
        }

        var skus = await stock.ReadAsync(campaign, cancellationToken);
        var prices = campaign.Skus.ToDictionary(s => s.SkuId, s => s.Price);

        AnsiConsole.MarkupLineInterpolated($"Campaign [bold]{campaign.CampaignId}[/]: {Window.Format(campaign)}.");
        var table = new Table()
            .AddColumn("SKU")
            .AddColumn(new TableColumn("Price").RightAligned())
            .AddColumn(new TableColumn("Total").RightAligned())
            .AddColumn(new TableColumn("Available in Redis").RightAligned())
            .AddColumn("State");
        foreach (var sku in skus)
        {
            table.AddRow(
                sku.SkuId.ToString(Formats.Culture),
                Money.Format(prices[sku.SkuId]),
                Formats.Units(sku.Total),
                sku.State == SkuState.NotWarmed ? "-" : Formats.Units(sku.Available),
                Formats.State(sku.State));
        }
        AnsiConsole.Write(table);

        if (campaign.CouponPools.Count > 0)
        {
            var pools = await coupons.ReadAsync(campaign);
            var poolTable = new Table()
                .AddColumn("Coupon pool")
                .AddColumn(new TableColumn("Discount").RightAligned())
                .AddColumn(new TableColumn("Min spend").RightAligned())
                .AddColumn(new TableColumn("Per buyer").RightAligned())
                .AddColumn(new TableColumn("Total").RightAligned())
                .AddColumn(new TableColumn("Available in Redis").RightAligned())
                .AddColumn("State");
            foreach (var (definition, pool) in campaign.CouponPools.Zip(pools))
            {
                poolTable.AddRow(
                    Markup.Escape(definition.CouponId),
                    Money.Format(definition.Discount),
                    Money.Format(definition.MinSpend),
                    Formats.Units(definition.PerUserLimit),
                    Formats.Units(pool.Total),
                    pool.State == CouponState.NotWarmed ? "-" : Formats.Units(pool.Available),
                    Formats.State(pool));
            }
            AnsiConsole.Write(poolTable);
        }
        return ExitCodes.Ok;
    }
}
