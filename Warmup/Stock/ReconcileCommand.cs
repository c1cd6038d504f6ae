using System.ComponentModel;
using FlashSale.Engine.Campaigns;
using FlashSale.Engine.Coupons;
using FlashSale.Engine.Reconciliation;
using FlashSale.Warmup.Campaigns;
using FlashSale.Warmup.Infrastructure;
using Spectre.Console;
using Spectre.Console.Cli;

namespace FlashSale.Warmup.Stock;

internal sealed class ReconcileSettings : CampaignSettings
{
    [CommandOption("--repair")]
    [Description("Repair what drifted (re-publish lost reservations, hold units of orders Redis forgot, return units of unreleased cancels), then check again.")]
    public bool Repair { get; init; }
}

/// <summary>Compares each SKU's Redis side with its orders in MySQL; exits non-zero while drift remains.</summary>
internal sealed class ReconcileCommand(CatalogSchema schema, Reconciler reconciler, CouponReconciler coupons) : AsyncCommand<ReconcileSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ReconcileSettings settings, CancellationToken cancellationToken)
    {
        var campaign = await schema.StoredCampaignAsync(settings.CampaignId, "", cancellationToken);
        if (campaign is null)
        {
            return ExitCodes.Failed;
        }

        var results = await ProgressTaskReporter.RunAsync(
            $"{(settings.Repair ? "Reconciling" : "Checking")} {campaign.Skus.Count} SKU(s)", campaign.Skus.Count,
            progress => reconciler.ReconcileAsync(campaign, settings.Repair, progress, cancellationToken));

        AnsiConsole.MarkupLineInterpolated($"Campaign [bold]{campaign.CampaignId}[/]: {Window.Format(campaign)}.");
        AnsiConsole.Write(LedgerTable(results, settings.Repair));
        foreach (var finding in results.SelectMany(r => r.After.Findings.Select(f => (r.After.SkuId, Finding: f))).Take(20))
        {
            Output.Warn(finding.Finding.OrderNo == 0
                ? $"SKU {finding.SkuId}: {finding.Finding.Kind}, {finding.Finding.Units} unit(s)"
                : $"SKU {finding.SkuId}: {finding.Finding.Kind}, order {finding.Finding.OrderNo}, {finding.Finding.Units} unit(s)");
        }

        var pools = campaign.CouponPools.Count == 0 ? [] : await coupons.ReconcileAsync(campaign, settings.Repair, cancellationToken);
        if (pools.Count > 0)
        {
            AnsiConsole.Write(PoolTable(pools, settings.Repair));
            foreach (var (pool, finding) in pools.SelectMany(p => p.After.Findings.Select(f => (p.After.CouponId, f))).Take(20))
            {
                Output.Warn(finding.OrderNo == 0
                    ? $"Coupon pool {pool}: {finding.Kind}, {finding.Units} coupon(s)"
                    : $"Coupon pool {pool}: {finding.Kind}, order {finding.OrderNo}");
            }
        }

        var drift = results.Sum(r => r.After.Drift) + pools.Sum(p => p.After.Drift);
        if (drift > 0)
        {
            Output.Fail(settings.Repair
                ? $"{Formats.Units(drift)} unit(s) still drift after the repairs; the warnings above say which, the Persister's log says why."
                : $"{Formats.Units(drift)} unit(s) drift between Redis and MySQL; run again with --repair to repair them.");
            return ExitCodes.Drift;
        }
        AnsiConsole.MarkupLineInterpolated($"[green]No drift[/] in {results.Count} SKU(s) and {pools.Count} coupon pool(s) of [bold]{campaign.CampaignId}[/].");
        return ExitCodes.Ok;
    }

    private static Table PoolTable(IReadOnlyList<CouponReconciliation> results, bool repaired)
    {
        var table = new Table().AddColumn("Coupon pool");
        foreach (var heading in new[] { "Total", "Redis available", "locked", "redeemed", "MySQL locked", "redeemed", "released", "In flight", "Drift" })
        {
            table.AddColumn(new TableColumn(heading).RightAligned());
        }
        if (repaired)
        {
            table.AddColumn("Repairs");
        }
        foreach (var result in results)
        {
            var ledger = result.After;
            var drift = ledger.Drift == 0 ? "[green]0[/]" : $"[red]{Formats.Units(ledger.Drift)}[/]";
            if (repaired && result.Before.Drift != ledger.Drift)
            {
                drift = $"{Formats.Units(result.Before.Drift)} → {drift}";
            }
            var cells = new List<string>
            {
                Markup.Escape(ledger.CouponId),
                Formats.Units(ledger.Total),
                ledger.Warmed ? Formats.Units(ledger.Redis.Available) : "[grey]not loaded[/]",
                Formats.Units(ledger.Redis.Locked),
                Formats.Units(ledger.Redis.Redeemed),
                Formats.Units(ledger.Db.Locked),
                Formats.Units(ledger.Db.Redeemed),
                Formats.Units(ledger.Db.Released),
                Formats.Units(ledger.InFlight),
                drift,
            };
            if (repaired)
            {
                cells.Add(result.Repairs.Count == 0 ? "-" : Markup.Escape(string.Join(", ", result.Repairs.Select(r => $"{r.Key} {r.Value}"))));
            }
            table.AddRow([.. cells]);
        }
        return table;
    }

    private static Table LedgerTable(IReadOnlyList<SkuReconciliation> results, bool repaired)
    {
        var table = new Table().AddColumn("SKU");
        foreach (var heading in new[] { "Total", "Redis available", "reserved", "sold", "MySQL pending", "paid", "cancelled", "In flight", "Drift" })
        {
            table.AddColumn(new TableColumn(heading).RightAligned());
        }
        if (repaired)
        {
            table.AddColumn("Repairs");
        }
        foreach (var result in results)
        {
            var ledger = result.After;
            var drift = ledger.Drift == 0 ? "[green]0[/]" : $"[red]{Formats.Units(ledger.Drift)}[/]";
            if (repaired && result.Before.Drift != ledger.Drift)
            {
                drift = $"{Formats.Units(result.Before.Drift)} → {drift}";
            }
            var cells = new List<string>
            {
                ledger.SkuId.ToString(Formats.Culture),
                Formats.Units(ledger.Total),
                ledger.Warmed ? Formats.Units(ledger.Redis.Available) : "[grey]not loaded[/]",
                Formats.Units(ledger.Redis.Reserved),
                Formats.Units(ledger.Redis.Sold),
                Formats.Units(ledger.Db.Pending),
                Formats.Units(ledger.Db.Paid),
                Formats.Units(ledger.Db.Cancelled),
                Formats.Units(ledger.InFlight),
                drift,
            };
            if (repaired)
            {
                cells.Add(result.Repairs.Count == 0 ? "-" : Markup.Escape(string.Join(", ", result.Repairs.Select(r => $"{r.Key} {r.Value}"))));
            }
            table.AddRow([.. cells]);
        }
        return table;
    }
}
