using System.Globalization;
using System.Runtime;
using System.Runtime.InteropServices;
using System.Text;
using FlashSale.LoadTests.Cli;
using FlashSale.LoadTests.EngineApi;
using FlashSale.LoadTests.Measurement;
using FlashSale.LoadTests.Scenarios;
using FlashSale.LoadTests.Verification;

namespace FlashSale.LoadTests.Reporting;

/// <summary>Everything a finished run has to say.</summary>
public sealed record RunSummary(
    LoadTestOptions Options,
    string ModelDescription,
    SaleUnderTest Sale,
    DateTime StartedUtc,
    TimeSpan Elapsed,
    TimeSpan TokenPreparation,
    int BuyerPool,
    bool UsingDevelopmentKey,
    bool Interrupted,
    LoadStats Stats,
    Resolution Resolution,
    IReadOnlyList<InvariantResult> Invariants,
    string? LoadAverageBefore)
{
    public bool Passed => Invariants.All(i => i.Passed);
}

/// <summary>The end-of-run summary on the console and the report.md in the results folder.</summary>
public static class Report
{
    private const int MaxThroughputRows = 60;

    public static void PrintConsole(RunSummary run, TextWriter output)
    {
        output.WriteLine();
        output.WriteLine(Invariant($"{run.Options.Scenario} against {run.Options.Url} ({run.ModelDescription}), {run.Elapsed.TotalSeconds:0.0} s, campaign {run.Sale.CampaignId}")
            + (run.Interrupted ? ", interrupted by Ctrl+C" : ""));
        output.WriteLine(Invariant($"Latency in ms{(run.Options.IsOpenModel ? ", from each request's intended start" : "")}:"));
        output.Write(OutcomeTable(run).ToText());
        foreach (var line in HarnessNotes(run))
        {
            output.WriteLine("  " + line);
        }
        output.WriteLine();
        output.WriteLine("Invariants:");
        foreach (var invariant in run.Invariants)
        {
            output.WriteLine("  " + invariant);
        }
    }

    public static async Task<string> WriteAsync(RunSummary run, string resultsRoot, CancellationToken cancellationToken)
    {
        var folder = Path.Combine(resultsRoot, $"{run.StartedUtc:yyyyMMdd'T'HHmmss'Z'}-{run.Options.Scenario}");
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, "report.md");
        await File.WriteAllTextAsync(path, Markdown(run), cancellationToken);
        return path;
    }

    public static string Markdown(RunSummary run)
    {
        var options = run.Options;
        var text = new StringBuilder()
            .AppendLine(Invariant($"# Load test: {options.Scenario}"))
            .AppendLine()
            .AppendLine(Invariant($"Started {run.StartedUtc:yyyy-MM-dd HH:mm:ss} UTC against {options.Url}, campaign `{run.Sale.CampaignId}`. ")
                + $"Result: **{(run.Passed ? "all invariants passed" : "INVARIANT FAILED")}**"
                + (run.Interrupted ? " (interrupted before the end of the duration)." : "."))
            .AppendLine()
            .AppendLine("## Parameters")
            .AppendLine()
            .Append(new TextTable("parameter", "value")
                .Add("scenario", options.Scenario)
                .Add("model", run.ModelDescription)
                .Add("duration", Invariant($"{options.Duration.TotalSeconds:0.###} s"))
                .Add("stock", string.Join(", ", run.Sale.Skus.Select(s => Invariant($"SKU {s.SkuId}: {s.Stock:N0}"))))
                .Add("buyer pool", Invariant($"{run.BuyerPool:N0} (tokens minted in {run.TokenPreparation.TotalSeconds:0.0} s, before the clock started)"))
                .Add("connections (max)", Invariant($"{options.EffectiveConnections:N0}"))
                .Add("request timeout", Invariant($"{options.Timeout.TotalSeconds:0.###} s"))
                .Add("seed", Invariant($"{options.Seed}"))
                .Add("signing key", run.UsingDevelopmentKey ? "development default" : "FLASHSALE_SIGNING_KEY")
                .ToMarkdown())
            .AppendLine()
            .AppendLine("## Machine")
            .AppendLine()
            .Append(new TextTable("what", "value")
                .Add("processors", Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture))
                .Add("load average before the run", run.LoadAverageBefore ?? "unknown")
                .Add("OS", RuntimeInformation.OSDescription + " " + RuntimeInformation.OSArchitecture)
                .Add(".NET", RuntimeInformation.FrameworkDescription + (GCSettings.IsServerGC ? ", server GC" : ", workstation GC"))
                .Add("Ingress", options.Url.IsLoopback
                    ? "on this machine: harness and engine share its processors"
                    : "on another machine")
                .ToMarkdown())
            .AppendLine()
            .AppendLine("## Outcomes and latency")
            .AppendLine()
            .AppendLine(Invariant($"Rates are per second over the {run.Elapsed.TotalSeconds:0.0} s from the first request to the last answer. Latencies in ms")
                + (options.IsOpenModel
                    ? ", measured from each request's intended start time, so time spent waiting behind a slow server counts (coordinated omission corrected)."
                    : ", measured from each request's actual send: the closed model slows down with the server, so stalls show as lost throughput, not latency."))
            .AppendLine()
            .Append(OutcomeTable(run).ToMarkdown())
            .AppendLine();

        var notes = HarnessNotes(run);
        if (notes.Count > 0)
        {
            foreach (var note in notes)
            {
                text.AppendLine("- " + note);
            }
            text.AppendLine();
        }

        if (!run.Stats.Details.IsEmpty)
        {
            text.AppendLine("### Unexpected answers")
                .AppendLine()
                .Append(DetailsTable(run).ToMarkdown())
                .AppendLine();
        }

        text.AppendLine("## Throughput per second")
            .AppendLine()
            .Append(ThroughputTable(run).ToMarkdown())
            .AppendLine()
            .AppendLine("## Invariants")
            .AppendLine();
        foreach (var invariant in run.Invariants)
        {
            text.AppendLine(Invariant($"- **{(invariant.Passed ? "PASS" : "FAIL")}** {invariant.Name}: {invariant.Detail}"));
        }
        return text.ToString();
    }

    private static TextTable OutcomeTable(RunSummary run)
    {
        var table = new TextTable("outcome", "count", "share", "req/s", "p50", "p90", "p99", "p99.9", "max");
        var total = run.Stats.Completed;
        var seconds = Math.Max(run.Elapsed.TotalSeconds, 1e-9);
        foreach (var outcome in Outcomes.All)
        {
            var count = run.Stats.Count(outcome);
            if (count > 0)
            {
                AddRow(table, outcome.Label(), count, total, seconds, run.Stats.Latency(outcome));
            }
        }
        AddRow(table, "all", total, total, seconds, run.Stats.OverallLatency());
        return table;
    }

    private static void AddRow(TextTable table, string name, long count, long total, double seconds, LatencySummary latency)
        => table.Add(
            name,
            Invariant($"{count:N0}"),
            total == 0 ? "-" : Invariant($"{100.0 * count / total:0.0}%"),
            Invariant($"{count / seconds:N0}"),
            Ms(latency.P50), Ms(latency.P90), Ms(latency.P99), Ms(latency.P999), Ms(latency.Max));

    private static TextTable ThroughputTable(RunSummary run)
    {
        var table = new TextTable("second", "sent", "answered", "created", "sold-out", "purchase-limit", "other", "p50 ms", "p99 ms", "max ms");
        var samples = run.Stats.Samples;
        // Long runs fold several seconds into one row so the table stays readable.
        var perRow = Math.Max(1, (int)Math.Ceiling(samples.Count / (double)MaxThroughputRows));
        for (var i = 0; i < samples.Count; i += perRow)
        {
            var group = samples.Skip(i).Take(perRow).ToList();
            var byOutcome = new long[Outcomes.Count];
            foreach (var sample in group)
            {
                for (var o = 0; o < byOutcome.Length; o++)
                {
                    byOutcome[o] += sample.ByOutcome[o];
                }
            }
            var created = byOutcome[(int)Outcome.Created] + byOutcome[(int)Outcome.Replayed];
            var soldOut = byOutcome[(int)Outcome.SoldOut];
            var limit = byOutcome[(int)Outcome.PurchaseLimit];
            var completed = group.Sum(s => s.Completed);
            var from = group[0].Elapsed - group[0].Length;
            // Per-second percentiles of a folded row would need the merged histogram; the worst second's is shown instead.
            table.Add(
                Invariant($"{from.TotalSeconds:0.0}–{group[^1].Elapsed.TotalSeconds:0.0}"),
                Invariant($"{group.Sum(s => s.Sent):N0}"),
                Invariant($"{completed:N0}"),
                Invariant($"{created:N0}"),
                Invariant($"{soldOut:N0}"),
                Invariant($"{limit:N0}"),
                Invariant($"{completed - created - soldOut - limit:N0}"),
                Ms(group.Max(s => s.Latency.P50)),
                Ms(group.Max(s => s.Latency.P99)),
                Ms(group.Max(s => s.Latency.Max)));
        }
        return table;
    }

    private static TextTable DetailsTable(RunSummary run)
    {
        var table = new TextTable("answer", "count");
        foreach (var (detail, count) in run.Stats.Details.OrderByDescending(d => d.Value).Take(20))
        {
            table.Add(detail, Invariant($"{count:N0}"));
        }
        return table;
    }

    /// <summary>What the reader needs to trust (or distrust) the numbers: harness lag, unsent requests, unknown outcomes.</summary>
    private static List<string> HarnessNotes(RunSummary run)
    {
        var notes = new List<string>();
        var stats = run.Stats;
        if (run.Options.IsOpenModel)
        {
            var lag = stats.ScheduleLag();
            notes.Add(Invariant($"Schedule lag (send time − intended start, part of every latency above): p50 {lag.P50:0.00} ms, p99 {lag.P99:0.00} ms, max {lag.Max:0.00} ms."));
            if (stats.LateStarts > 0 || stats.NotSent > 0)
            {
                notes.Add(Invariant($"WARNING: the target rate was not held: {stats.LateStarts:N0} requests waited for one of the {run.Options.MaxInFlight:N0} in-flight slots, ")
                    + Invariant($"{stats.NotSent:N0} were due but never sent. Their wait is in the latencies; raise --max-in-flight or lower --rate."));
            }
        }
        if (stats.InFlight > 0)
        {
            notes.Add(Invariant($"WARNING: {stats.InFlight:N0} requests were still unanswered after the drain period and are not counted."));
        }
        var resolution = run.Resolution;
        if (resolution.Attempted > 0)
        {
            notes.Add(Invariant($"{resolution.Attempted:N0} attempts had an unknown effect (5xx, timeout, transport error) and were replayed with their Idempotency-Key after the run: ")
                + Invariant($"{resolution.Reserved.Count:N0} hold a reservation, {resolution.NotReserved:N0} do not, {resolution.StillUnknown.Count:N0} are still unknown."));
        }
        return notes;
    }

    private static string Ms(double milliseconds) => milliseconds.ToString("0.00", CultureInfo.InvariantCulture);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
