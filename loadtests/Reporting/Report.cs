using System.Globalization;
using System.Runtime;
using System.Runtime.InteropServices;
using System.Text;
using FlashSale.LoadTests.Baseline;
using FlashSale.LoadTests.Cli;
using FlashSale.LoadTests.EngineApi;
using FlashSale.LoadTests.Load;
using FlashSale.LoadTests.Measurement;
using FlashSale.LoadTests.Pipeline;
using FlashSale.LoadTests.Scenarios;
using FlashSale.LoadTests.Scenarios.FullSale;
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
    string? LoadAverageBefore,
    LagReport? Lag,
    DrainReport? Drain,
    IReadOnlyList<string> ScenarioNotes)
{
    public bool Passed => Invariants.All(i => i.Passed);

    /// <summary>The waves of reservations; a run of one scenario wave has one.</summary>
    public IReadOnlyList<WaveSpan> Waves { get; init; } = [];

    public bool UsingDevelopmentSecret { get; init; }

    /// <summary>Follow-ups still queued when the run stopped sending (Ctrl+C, or past <see cref="Load.LoadRun.FollowUpTail"/>).</summary>
    public long FollowUpsAbandoned { get; init; }

    public IReadOnlyList<ReportSection> Sections { get; init; } = [];

    /// <summary>The same load against the constant endpoint (--baseline); null without.</summary>
    public BaselineReport? Baseline { get; init; }

    /// <summary>The reservations (retries and replays included) sent to each Ingress; one entry without --target.</summary>
    public IReadOnlyList<(Uri Target, long Reservations)> PerTarget { get; init; } = [];

    /// <summary>The engine's memory at the start, at each window's end and after the drain (--window); null without.</summary>
    public ResourceSampler? Resources { get; init; }

    /// <summary>Time under load, which the rates are per: each wave from its first request to its last reservation's answer.</summary>
    public TimeSpan LoadTime => Waves.Count == 0 ? Elapsed : TimeSpan.FromTicks(Waves.Sum(w => w.Load.Ticks));
}

/// <summary>One wave of reservations: when it started (since the run's start), how long it was under load, how long it ran with its follow-ups.</summary>
public sealed record WaveSpan(int Wave, TimeSpan StartsAt, TimeSpan Load, TimeSpan Duration);

/// <summary>The end-of-run summary on the console, and report.md and report.html in the results folder.</summary>
public static class Report
{
    public const string MarkdownFile = "report.md";
    public const string HtmlFile = "report.html";

    private const int MaxThroughputRows = 60;

    public static void PrintConsole(RunSummary run, TextWriter output)
    {
        output.WriteLine();
        output.WriteLine(Invariant($"{run.Options.Scenario} against {TargetsText(run)} ({run.ModelDescription}), {LoadTimeText(run)}, campaign {run.Sale.CampaignId}")
            + (run.Interrupted ? ", interrupted by Ctrl+C" : ""));
        output.WriteLine(Invariant($"Latency in ms{(run.Options.IsOpenModel ? ", from each request's intended start" : "")}:"));
        output.Write(OutcomeTable(run).ToText());
        if (run.Stats.FollowUpsSent > 0)
        {
            output.WriteLine();
            output.WriteLine("Follow-ups (latency in ms from each one's due time):");
            output.Write(FollowUpTable(run).ToText());
        }
        if (run.Baseline is { } baseline)
        {
            output.WriteLine();
            output.WriteLine(Invariant($"Against a constant endpoint (same model and requests, {baseline.Duration.TotalSeconds:0.###} s, measured first):"));
            output.Write(BaselineTable(run, baseline).ToText());
            foreach (var line in BaselineNotes(baseline))
            {
                output.WriteLine("  " + line);
            }
        }
        foreach (var line in HarnessNotes(run))
        {
            output.WriteLine("  " + line);
        }
        foreach (var line in run.ScenarioNotes)
        {
            output.WriteLine("  " + line);
        }
        if (run.Stats.Windows is { } windows)
        {
            output.WriteLine();
            output.WriteLine(Invariant($"{WindowReport.Title} ({windows.Window.TotalSeconds:0.###} s each, by intended start; latency in ms):"));
            output.Write(WindowReport.WindowTable(windows).ToText());
            if (run.Resources is { } resources)
            {
                output.WriteLine("Engine memory:");
                output.Write(WindowReport.ResourceTable(resources).ToText());
            }
            foreach (var line in WindowReport.Findings(windows, run.Resources))
            {
                output.WriteLine("  " + line);
            }
        }
        foreach (var section in run.Sections)
        {
            output.WriteLine();
            output.WriteLine(section.Title + ": " + section.Text);
            if (section.Table is not null)
            {
                output.Write(section.Table.ToText());
            }
        }
        if (run.Lag is { } lag)
        {
            output.WriteLine();
            output.WriteLine(Invariant($"Reservation → MySQL visibility lag in ms ({lag.Sampled:N0} sampled 201s):"));
            output.Write(LagTable(lag).ToText());
            output.WriteLine("  " + LagNote(lag));
        }
        if (run.Drain is { } drain)
        {
            output.WriteLine();
            output.WriteLine("Pipeline drain: " + DrainNote(drain));
        }
        output.WriteLine();
        output.WriteLine("Invariants:");
        foreach (var invariant in run.Invariants)
        {
            output.WriteLine("  " + invariant);
        }
        if (run.Stats.Windows is { } measured)
        {
            output.WriteLine(WindowReport.ResultLine(measured, run.Resources));
        }
    }

    /// <summary>Writes report.md and report.html into a new folder under <paramref name="resultsRoot"/>; returns the folder.</summary>
    public static async Task<string> WriteAsync(RunSummary run, string resultsRoot, CancellationToken cancellationToken)
    {
        var folder = Path.Combine(resultsRoot, $"{run.StartedUtc:yyyyMMdd'T'HHmmss'Z'}-{run.Options.Scenario}");
        Directory.CreateDirectory(folder);
        await File.WriteAllTextAsync(Path.Combine(folder, MarkdownFile), Markdown(run), cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(folder, HtmlFile), HtmlReport.Render(run), cancellationToken);
        return folder;
    }

    public static string Markdown(RunSummary run)
    {
        var options = run.Options;
        var text = new StringBuilder()
            .AppendLine(Invariant($"# Load test: {options.Scenario}"))
            .AppendLine()
            .AppendLine(Invariant($"Started {run.StartedUtc:yyyy-MM-dd HH:mm:ss} UTC against {TargetsText(run)}, campaign `{run.Sale.CampaignId}`. ")
                + $"Result: **{(run.Passed ? "all invariants passed" : "INVARIANT FAILED")}**"
                + (run.Interrupted ? " (interrupted before the end of the duration)." : "."))
            .AppendLine()
            .AppendLine("## Parameters")
            .AppendLine()
            .Append(Parameters(run).ToMarkdown())
            .AppendLine()
            .AppendLine("## Machine")
            .AppendLine()
            .Append(Machine(run).ToMarkdown())
            .AppendLine()
            .AppendLine("## Outcomes and latency")
            .AppendLine()
            .AppendLine(Invariant($"Rates are per second over the {LoadTimeText(run)}. Latencies in ms")
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

        foreach (var note in run.ScenarioNotes)
        {
            text.AppendLine("- " + note);
        }
        if (run.ScenarioNotes.Count > 0)
        {
            text.AppendLine();
        }

        if (run.Stats.FollowUpsSent > 0)
        {
            text.AppendLine("## Follow-ups")
                .AppendLine()
                .AppendLine("Requests about orders the run saw created, sent at their due time next to the reservations. Latency in ms from that due time.")
                .AppendLine()
                .Append(FollowUpTable(run).ToMarkdown())
                .AppendLine();
        }

        if (run.Baseline is { } baseline)
        {
            text.AppendLine("## Against a constant endpoint")
                .AppendLine()
                .AppendLine(BaselineIntro(baseline))
                .AppendLine()
                .Append(BaselineTable(run, baseline).ToMarkdown())
                .AppendLine();
            foreach (var note in BaselineNotes(baseline))
            {
                text.AppendLine("- " + note);
            }
            text.AppendLine();
        }

        foreach (var section in run.Sections)
        {
            text.AppendLine("## " + section.Title)
                .AppendLine()
                .AppendLine(section.Text)
                .AppendLine();
            if (section.Table is not null)
            {
                text.Append(section.Table.ToMarkdown()).AppendLine();
            }
        }

        if (!run.Stats.Details.IsEmpty)
        {
            text.AppendLine("### Unexpected answers")
                .AppendLine()
                .Append(DetailsTable(run).ToMarkdown())
                .AppendLine();
        }

        if (run.Stats.Windows is { } windows)
        {
            text.AppendLine("## " + WindowReport.Title)
                .AppendLine()
                .AppendLine(WindowReport.Intro(run, windows))
                .AppendLine()
                .Append(WindowReport.WindowTable(windows).ToMarkdown())
                .AppendLine();
            if (run.Resources is { } resources)
            {
                text.AppendLine("### Engine memory")
                    .AppendLine()
                    .AppendLine(WindowReport.ResourceIntro(resources))
                    .AppendLine()
                    .Append(WindowReport.ResourceTable(resources).ToMarkdown())
                    .AppendLine();
            }
            foreach (var line in WindowReport.Findings(windows, run.Resources))
            {
                text.AppendLine("- " + line);
            }
            text.AppendLine();
        }

        text.AppendLine("## Throughput per second")
            .AppendLine()
            .Append(ThroughputTable(run).ToMarkdown())
            .AppendLine();

        if (run.Lag is { } lag)
        {
            text.AppendLine("## Reservation → MySQL visibility lag")
                .AppendLine()
                .AppendLine(Invariant($"Time from a 201 to the first `GET /api/v1/orders/{{orderNo}}` (with the buyer's token) that says `\"persisted\":true`, "))
                .AppendLine(Invariant($"for {lag.Sampled:N0} sampled 201s (at most {lag.SamplesPerSecond:N0} per second, evenly spaced), in ms. "))
                .AppendLine("The second row measures from the order's `createdAt`, the instant Redis decided it (the Redis server's clock).")
                .AppendLine()
                .Append(LagTable(lag).ToMarkdown())
                .AppendLine()
                .AppendLine("- " + LagNote(lag))
                .AppendLine();
        }
        if (run.Drain is { } drain)
        {
            text.AppendLine("## Pipeline drain")
                .AppendLine()
                .AppendLine(DrainNote(drain))
                .AppendLine();
        }

        text.AppendLine("## Invariants")
            .AppendLine();
        foreach (var invariant in run.Invariants)
        {
            text.AppendLine(Invariant($"- **{(invariant.Passed ? "PASS" : "FAIL")}** {invariant.Name}: {invariant.Detail}"));
        }
        return text.ToString();
    }

    /// <summary>The Ingress the run went to, or every one of them (--target).</summary>
    internal static string TargetsText(RunSummary run) => string.Join(", ", run.Options.Targets);

    internal static TextTable Machine(RunSummary run)
        => new TextTable("what", "value")
            .Add("processors", Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture))
            .Add("load average before the run", run.LoadAverageBefore ?? "unknown")
            .Add("OS", RuntimeInformation.OSDescription + " " + RuntimeInformation.OSArchitecture)
            .Add(".NET", RuntimeInformation.FrameworkDescription + (GCSettings.IsServerGC ? ", server GC" : ", workstation GC"))
            .Add("Ingress", run.Options.Targets.All(t => t.IsLoopback)
                ? "on this machine: harness and engine share its processors"
                : "on another machine");

    internal static TextTable Parameters(RunSummary run)
    {
        var options = run.Options;
        var table = new TextTable("parameter", "value")
            .Add("scenario", options.Scenario)
            .Add("model", run.ModelDescription)
            .Add("duration", run.Waves.Count > 1
                ? Invariant($"{run.Waves.Count} waves: ") + string.Join(", ", run.Waves.Select(w => Invariant($"{w.Duration.TotalSeconds:0.#} s from {w.StartsAt.TotalSeconds:0.#} s")))
                : Invariant($"{options.Duration.TotalSeconds:0.###} s"))
            .Add("stock", run.Sale.Skus.Count <= Invariants.MaxSkusListed
                ? string.Join(", ", run.Sale.Skus.Select(s => Invariant($"SKU {s.SkuId}: {s.Stock:N0}")))
                : Invariant($"{run.Sale.Skus.Count:N0} SKUs, {run.Sale.Skus.Sum(s => (long)s.Stock):N0} units in all ({run.Sale.Skus.Min(s => s.Stock):N0}–{run.Sale.Skus.Max(s => s.Stock):N0} each)"));
        if (run.PerTarget.Count > 1)
        {
            var sent = Math.Max(1, run.PerTarget.Sum(t => t.Reservations));
            table.Add("Ingresses (reservations sent to each)", string.Join(", ",
                run.PerTarget.Select(t => Invariant($"{t.Target}: {t.Reservations:N0} ({100.0 * t.Reservations / sent:0.0} %)"))));
        }
        if (options is ManySkusOptions manySkus)
        {
            table.Add("SKU skew (Zipf exponent)", Invariant($"{manySkus.Skew:0.###}"));
        }
        if (options is HotSkuOptions hotSku)
        {
            table.Add("buyers", hotSku.BuyersInTurn ? "in turn (a new buyer per request until the pool wraps)" : "at random from the pool, with repeats");
        }
        if (options is ReplayStormOptions replayStorm)
        {
            table.Add("keys per buyer", Invariant($"{replayStorm.KeysPerBuyer:N0}"));
        }
        if (options is FullSaleOptions fullSale)
        {
            table.Add("payment window", Invariant($"{fullSale.PaymentWindowSeconds} s"))
                .Add("pay / cancel / time out (first wave)", Invariant($"{fullSale.PayShare:0.##} / {fullSale.CancelShare:0.##} / the rest"))
                .Add("callbacks sent twice", Invariant($"{fullSale.DuplicateShare:P0} of payments"))
                .Add("coupon", fullSale.CouponShare > 0
                    ? Invariant($"{fullSale.CouponShare:P0} of attempts take {Scenarios.FullSale.FullSaleScenario.CouponId} ({Scenarios.FullSale.FullSaleScenario.Discount:0.00} off), pool of {(fullSale.Coupons is { } n ? n.ToString("N0", CultureInfo.InvariantCulture) : "a quarter of the stock")}")
                    : "none")
                .Add("think time", Invariant($"{fullSale.ThinkTime.TotalSeconds:0.###} s"))
                .Add("payment secret", run.UsingDevelopmentSecret ? "development default" : PaymentSigner.SecretVariable);
        }
        return table
            .Add("buyer pool", Invariant($"{run.BuyerPool:N0} (tokens minted in {run.TokenPreparation.TotalSeconds:0.0} s, before the clock started)"))
            .Add("connections (max)", Invariant($"{options.EffectiveConnections:N0}"))
            .Add("request timeout", Invariant($"{options.Timeout.TotalSeconds:0.###} s"))
            .Add("lag probe", options.LagSamplesPerSecond == 0
                ? "off"
                : Invariant($"≤ {options.LagSamplesPerSecond:N0} samples/s, read every {options.LagPollInterval.TotalMilliseconds:0.#} ms, timeout {options.LagTimeout.TotalSeconds:0.###} s"))
            .Add("drain", options.DrainMax == 0
                ? "off"
                : Invariant($"up to {options.DrainMax:N0} successes read back, timeout {options.DrainTimeout.TotalSeconds:0.###} s"))
            .Add("windows", options.Window is { } window ? Invariant($"{window.TotalSeconds:0.###} s") : "no")
            .Add("seed", Invariant($"{options.Seed}"))
            .Add("signing key", run.UsingDevelopmentKey ? "development default" : BuyerTokens.SigningKeyVariable)
            .Add("constant endpoint (--baseline)", run.Baseline is null ? "no" : "measured first, same model and requests");
    }

    internal static TextTable LagTable(LagReport lag)
    {
        var table = new TextTable("measured from", "count", "p50", "p90", "p99", "p99.9", "max");
        AddLagRow(table, "201 received (harness clock)", lag.FromAnswer);
        AddLagRow(table, "createdAt (server clock)", lag.FromCreatedAt);
        return table;
    }

    private static void AddLagRow(TextTable table, string name, LatencySummary lag)
        => table.Add(name, Invariant($"{lag.Count:N0}"), Ms(lag.P50), Ms(lag.P90), Ms(lag.P99), Ms(lag.P999), Ms(lag.Max));

    internal static string LagNote(LagReport lag)
        => Invariant($"Each lag is an upper bound, late by at most one poll interval ({lag.PollInterval.TotalMilliseconds:0.#} ms) plus one read. ")
            + Invariant($"The probe made {lag.Reads:N0} reads ({lag.ReadsPerSecond:N0}/s, at most {PersistenceLagProbe.MaxConcurrentReads} at once, on its own connections), {lag.ReadFailures:N0} failed. ")
            + Invariant($"Persisted {lag.Persisted:N0} of {lag.Sampled:N0}")
            + (lag.TimedOut > 0 ? Invariant($"; {lag.TimedOut:N0} not within {lag.Timeout.TotalSeconds:0.###} s") : "")
            + (lag.AheadOfCreatedAt > 0 ? Invariant($"; {lag.AheadOfCreatedAt:N0} seen before their createdAt (clocks disagree), left out of the createdAt row") : "")
            + ".";

    internal static string DrainNote(DrainReport drain)
        => (drain.NotPersisted == 0
                ? Invariant($"Read back {drain.Scope}: all persisted, the last seen {drain.SinceRunEnd.TotalSeconds:0.0} s after the run's last answer ")
                    + Invariant($"(the drain began {drain.StartedAfterRun.TotalSeconds:0.0} s after it, when the lag probe was done)")
                : Invariant($"Read back {drain.Scope}: {drain.NotPersisted:N0} still not persisted {drain.SinceRunEnd.TotalSeconds:0.0} s after the run's last answer"))
            + Invariant($"; the order lists of {drain.BuyersListed:N0} of their {drain.BuyersWithOrders:N0} buyers were read too")
            + (drain.WithoutOrderNo > 0 ? Invariant($"; {drain.WithoutOrderNo:N0} successes had no order number to read") : "")
            + ".";

    internal static TextTable OutcomeTable(RunSummary run)
    {
        var table = new TextTable("outcome", "count", "share", "req/s", "p50", "p90", "p99", "p99.9", "max");
        var total = run.Stats.Completed;
        var seconds = Math.Max(run.LoadTime.TotalSeconds, 1e-9);
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

    internal static TextTable ThroughputTable(RunSummary run)
    {
        var table = new TextTable("second", "sent", "answered", "created", "replayed", "sold-out", "purchase-limit", "rate-limited, busy", "other", "p50 ms", "p99 ms", "max ms");
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
            var created = byOutcome[(int)Outcome.Created];
            var replayed = byOutcome[(int)Outcome.Replayed];
            var soldOut = byOutcome[(int)Outcome.SoldOut];
            var limit = byOutcome[(int)Outcome.PurchaseLimit];
            // Admission control's refusals: nothing decided, the buyer retries later.
            var admission = byOutcome[(int)Outcome.RateLimited] + byOutcome[(int)Outcome.Busy];
            var completed = group.Sum(s => s.Completed);
            var from = group[0].Elapsed - group[0].Length;
            // Per-second percentiles of a folded row would need the merged histogram; the worst second's is shown instead.
            table.Add(
                Invariant($"{from.TotalSeconds:0.0}–{group[^1].Elapsed.TotalSeconds:0.0}"),
                Invariant($"{group.Sum(s => s.Sent):N0}"),
                Invariant($"{completed:N0}"),
                Invariant($"{created:N0}"),
                Invariant($"{replayed:N0}"),
                Invariant($"{soldOut:N0}"),
                Invariant($"{limit:N0}"),
                Invariant($"{admission:N0}"),
                Invariant($"{completed - created - replayed - soldOut - limit - admission:N0}"),
                Ms(group.Max(s => s.Latency.P50)),
                Ms(group.Max(s => s.Latency.P99)),
                Ms(group.Max(s => s.Latency.Max)));
        }
        return table;
    }

    internal static TextTable DetailsTable(RunSummary run)
    {
        var table = new TextTable("answer", "count");
        foreach (var (detail, count) in run.Stats.Details.OrderByDescending(d => d.Value).Take(20))
        {
            table.Add(detail, Invariant($"{count:N0}"));
        }
        return table;
    }

    /// <summary>What the reader needs to trust (or distrust) the numbers: harness lag, unsent requests, unknown outcomes.</summary>
    internal static List<string> HarnessNotes(RunSummary run)
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
        if (run.FollowUpsAbandoned > 0)
        {
            notes.Add(Invariant($"WARNING: {run.FollowUpsAbandoned:N0} follow-ups were never sent (the run was stopped, or they were still queued {LoadRun.FollowUpTail.TotalMinutes:0} minutes after the last reservation)."));
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

    internal static string LoadTimeText(RunSummary run) => run.Waves.Count > 1
        ? Invariant($"{run.LoadTime.TotalSeconds:0.0} s under load in {run.Waves.Count} waves (each from its first request to its last reservation's answer)")
        : Invariant($"{run.LoadTime.TotalSeconds:0.0} s from the first request to the last answer");

    internal static TextTable FollowUpTable(RunSummary run)
    {
        var table = new TextTable("follow-up", "outcome", "count", "p50", "p90", "p99", "p99.9", "max");
        foreach (var kind in FollowUpOutcomes.Kinds)
        {
            foreach (var outcome in FollowUpOutcomes.All)
            {
                var count = run.Stats.Count(kind, outcome);
                if (count == 0)
                {
                    continue;
                }
                var latency = run.Stats.Latency(kind, outcome);
                table.Add(kind.Label(), outcome.Label(), Invariant($"{count:N0}"),
                    Ms(latency.P50), Ms(latency.P90), Ms(latency.P99), Ms(latency.P999), Ms(latency.Max));
            }
        }
        return table;
    }

    internal static string BaselineIntro(BaselineReport baseline)
        => Invariant($"The same load model ({baseline.ModelDescription}) sent the same reservations (same sequence numbers: buyers, SKUs, keys) ")
            + Invariant($"for {baseline.Duration.TotalSeconds:0.###} s to a constant endpoint in a child process (loadtests/BaselineServer: Kestrel and routing on the reservation route, ")
            + "a constant body of the engine's size, no token check, no Redis), just before the engine run. "
            + (baseline.Stock is { } stock
                ? Invariant($"It answers 201 for the first {stock:N0} reservations of each SKU and the engine's sold-out 409 after, so both see the same sell-out. ")
                : "It answers 201 to every reservation. ")
            + "Only reservations are compared (follow-ups are engine work). Rates are per second under load; the ratio is engine ÷ constant endpoint.";

    internal static IEnumerable<string> BaselineNotes(BaselineReport baseline)
    {
        yield return "Constant endpoint: " + baseline.Server
            + Invariant($" Warmed up for {baseline.WarmUp.TotalSeconds:0.0} s before the measurement, until its throughput stopped rising ({baseline.WarmUpRate:N0}/s). ")
            + "The engine is measured as found: after a restart, rehearse once before comparing.";
        var stats = baseline.Stats;
        if (stats.LateStarts > 0 || stats.NotSent > 0)
        {
            yield return Invariant($"WARNING: against the constant endpoint the target rate was not held either: {stats.LateStarts:N0} late, {stats.NotSent:N0} not sent.");
        }
        var unknown = stats.Count(Outcome.Timeout) + stats.Count(Outcome.TransportError) + stats.Count(Outcome.ServerError);
        if (unknown > 0)
        {
            yield return Invariant($"WARNING: {unknown:N0} requests to the constant endpoint failed (timeout, 5xx, transport error).");
        }
    }

    /// <summary>Throughput and p50/p99, all answers and per outcome both saw, constant endpoint and engine side by side.</summary>
    internal static TextTable BaselineTable(RunSummary run, BaselineReport baseline)
    {
        var table = new TextTable("measure", "constant endpoint", "engine", "engine ÷ constant");
        var baseSeconds = Math.Max(baseline.LoadTime.TotalSeconds, 1e-9);
        var engineSeconds = Math.Max(run.LoadTime.TotalSeconds, 1e-9);
        void Row(string name, double constant, double engine, string format)
            => table.Add(name, constant.ToString(format, CultureInfo.InvariantCulture), engine.ToString(format, CultureInfo.InvariantCulture),
                constant > 0 ? (engine / constant).ToString("0.00", CultureInfo.InvariantCulture) : "-");

        Row("answers/s, all", baseline.Stats.Completed / baseSeconds, run.Stats.Completed / engineSeconds, "N0");
        var baseAll = baseline.Stats.OverallLatency();
        var engineAll = run.Stats.OverallLatency();
        Row("p50 ms, all", baseAll.P50, engineAll.P50, "0.00");
        Row("p99 ms, all", baseAll.P99, engineAll.P99, "0.00");
        foreach (var outcome in Outcomes.All.Where(o => baseline.Stats.Count(o) > 0 && run.Stats.Count(o) > 0))
        {
            var constant = baseline.Stats.Latency(outcome);
            var engine = run.Stats.Latency(outcome);
            Row(Invariant($"answers/s, {outcome.Label()}"), baseline.Stats.Count(outcome) / baseSeconds, run.Stats.Count(outcome) / engineSeconds, "N0");
            Row(Invariant($"p50 ms, {outcome.Label()}"), constant.P50, engine.P50, "0.00");
            Row(Invariant($"p99 ms, {outcome.Label()}"), constant.P99, engine.P99, "0.00");
        }
        return table;
    }

    private static string Ms(double milliseconds) => milliseconds.ToString("0.00", CultureInfo.InvariantCulture);

}
