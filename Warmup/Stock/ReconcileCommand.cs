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

    private static Table PoolTable(IReadOnlyList<CouponReconciliation> results, bool repaired) => DriftTable(
        "Coupon pool", ["Total", "Redis available", "locked", "redeemed", "MySQL locked", "redeemed", "released", "In flight"], repaired,
        results.Select(result => new DriftRow(
            [
                Markup.Escape(result.After.CouponId),
                Formats.Units(result.After.Total),
                result.After.Warmed ? Formats.Units(result.After.Redis.Available) : "[grey]not loaded[/]",
                Formats.Units(result.After.Redis.Locked),
                Formats.Units(result.After.Redis.Redeemed),
                Formats.Units(result.After.Db.Locked),
                Formats.Units(result.After.Db.Redeemed),
                Formats.Units(result.After.Db.Released),
                Formats.Units(result.After.InFlight),
            ],
            result.Before.Drift, result.After.Drift, result.Repairs)));

    private static Table LedgerTable(IReadOnlyList<SkuReconciliation> results, bool repaired) => DriftTable(
        "SKU", ["Total", "Redis available", "reserved", "sold", "MySQL pending", "paid", "cancelled", "In flight"], repaired,
        results.Select(result => new DriftRow(
            [
                result.After.SkuId.ToString(Formats.Culture),
                Formats.Units(result.After.Total),
                result.After.Warmed ? Formats.Units(result.After.Redis.Available) : "[grey]not loaded[/]",
                Formats.Units(result.After.Redis.Reserved),
                Formats.Units(result.After.Redis.Sold),
                Formats.Units(result.After.Db.Pending),
                Formats.Units(result.After.Db.Paid),
                Formats.Units(result.After.Db.Cancelled),
                Formats.Units(result.After.InFlight),
            ],
            result.Before.Drift, result.After.Drift, result.Repairs)));

    /// <summary>One row of a reconciliation table: its cells up to the drift, the drift before and after, and the repairs.</summary>
    private sealed record DriftRow(IReadOnlyList<string> Cells, long DriftBefore, long DriftAfter, IReadOnlyDictionary<string, int> Repairs);

    /// <summary>
    /// A reconciliation's table: the subject's column, the numeric <paramref name="headings"/> right-aligned, the drift
    /// (red when not 0, with what it was before when the repairs changed it) and, after repairs, what they did.
    /// </summary>
    private static Table DriftTable(string subject, string[] headings, bool repaired, IEnumerable<DriftRow> rows)
    {
        var table = new Table().AddColumn(subject);
        foreach (var heading in headings.Append("Drift"))
        {
            table.AddColumn(new TableColumn(heading).RightAligned());
        }
        if (repaired)
        {
            table.AddColumn("Repairs");
        }
        foreach (var row in rows)
        {
            var drift = row.DriftAfter == 0 ? "[green]0[/]" : $"[red]{Formats.Units(row.DriftAfter)}[/]";
            if (repaired && row.DriftBefore != row.DriftAfter)
            {
                drift = $"{Formats.Units(row.DriftBefore)} → {drift}";
            }
            List<string> cells = [.. row.Cells, drift];
            if (repaired)
            {
                cells.Add(row.Repairs.Count == 0 ? "-" : Markup.Escape(string.Join(", ", row.Repairs.Select(r => $"{r.Key} {r.Value}"))));
            }
            table.AddRow([.. cells]);
        }
        return table;
    }
}
