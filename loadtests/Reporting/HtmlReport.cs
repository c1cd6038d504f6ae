using System.Globalization;
using System.Text;
using FlashSale.LoadTests.EngineApi;
using FlashSale.LoadTests.Measurement;
using FlashSale.LoadTests.Pipeline;

namespace FlashSale.LoadTests.Reporting;

/// <summary>
/// report.html: the same run as report.md, with charts. One self-contained file (inline CSS and
/// SVG, no script, nothing fetched), so it opens from a results folder on a machine without
/// internet, or attached to a ticket.
/// </summary>
public static class HtmlReport
{
    private const double ChartWidth = 1060;

    private const string Css = """
        body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328; margin: 24px auto; max-width: 1100px; padding: 0 16px; }
        h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid #d0d7de; padding-bottom: 4px; }
        .sub { color: #57606a; margin-bottom: 12px; }
        .badge { display: inline-block; padding: 2px 10px; border-radius: 12px; font-weight: 600; color: #fff; }
        .pass { background: #1a7f37; } .fail { background: #cf222e; }
        .cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0; }
        .card { border: 1px solid #d0d7de; border-radius: 8px; padding: 10px 14px; min-width: 150px; }
        .card .v { font-size: 22px; font-weight: 600; } .card .k { color: #57606a; font-size: 12px; }
        table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
        th, td { border: 1px solid #d0d7de; padding: 3px 8px; text-align: left; } th { background: #f6f8fa; }
        .num { text-align: right; font-variant-numeric: tabular-nums; }
        ul.inv { list-style: none; padding: 0; } ul.inv li { margin: 4px 0; }
        ul.inv .badge { font-size: 11px; width: 34px; text-align: center; margin-right: 8px; }
        .legend { display: flex; flex-wrap: wrap; gap: 14px; font-size: 12px; margin: 4px 0 0 70px; }
        .legend span::before { content: ""; display: inline-block; width: 10px; height: 10px; margin-right: 5px; background: var(--c); vertical-align: -1px; }
        svg { display: block; max-width: 100%; height: auto; font-size: 11px; fill: #1f2328; }
        svg .grid { stroke: #eaeef2; } svg .frame { fill: none; stroke: #8c959f; } svg .axis-title { font-size: 12px; fill: #57606a; }
        .note { color: #57606a; font-size: 13px; }
        """;

    public static string Render(RunSummary run)
    {
        var options = run.Options;
        var html = new StringBuilder()
            .Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
            .Append(Invariant($"<title>Load test {Encode(options.Scenario)} {run.StartedUtc:yyyy-MM-dd HH:mm:ss} UTC</title>"))
            .Append("<style>").Append(Css).Append("</style></head><body>")
            .Append(Invariant($"<h1>Load test: {Encode(options.Scenario)} <span class=\"badge {(run.Passed ? "pass" : "fail")}\">{(run.Passed ? "all invariants passed" : "INVARIANT FAILED")}</span></h1>"))
            .Append(Invariant($"<div class=\"sub\">Started {run.StartedUtc:yyyy-MM-dd HH:mm:ss} UTC against {Encode(options.Url.ToString())}, campaign <code>{Encode(run.Sale.CampaignId)}</code>; "))
            .Append(Invariant($"{Encode(run.ModelDescription)}, {Encode(Report.LoadTimeText(run))}{(run.Interrupted ? ", interrupted by Ctrl+C" : "")}.</div>"));

        AppendCards(html, run);

        html.Append("<h2>Invariants</h2><ul class=\"inv\">");
        foreach (var invariant in run.Invariants)
        {
            html.Append(Invariant($"<li><span class=\"badge {(invariant.Passed ? "pass" : "fail")}\">{(invariant.Passed ? "PASS" : "FAIL")}</span><b>{Encode(invariant.Name)}</b>: {Encode(invariant.Detail)}</li>"));
        }
        html.Append("</ul>");

        html.Append("<h2>Throughput over time</h2>")
            .Append(ThroughputChart(run))
            .Append(Legend(UsedOutcomes(run).Select(o => (o.Label(), Color(o))).Append(("sent", "#1f2328"))))
            .Append("<p class=\"note\">Answers per second by outcome (stacked), and requests sent per second (line).</p>");

        html.Append("<h2>Latency over time</h2>")
            .Append(LatencyOverTimeChart(run))
            .Append(Legend([("p50", "#0969da"), ("p99", "#bf3989"), ("max", "#8c959f")]))
            .Append(Invariant($"<p class=\"note\">Per second, all outcomes together, logarithmic scale{(options.IsOpenModel ? "; measured from each request's intended start (coordinated omission corrected)" : "")}.</p>"));

        html.Append("<h2>Latency per outcome</h2>")
            .Append(PercentileChart(run))
            .Append(Legend(PercentileMarks.Select(m => (m.Name, m.Color))))
            .Append(Report.OutcomeTable(run).ToHtml());
        var notes = Report.HarnessNotes(run).Concat(run.ScenarioNotes).ToList();
        if (notes.Count > 0)
        {
            html.Append("<ul class=\"note\">").AppendJoin("", notes.Select(n => $"<li>{Encode(n)}</li>")).Append("</ul>");
        }

        if (run.Baseline is { } baseline)
        {
            html.Append("<h2>Against a constant endpoint</h2>")
                .Append(Invariant($"<p>{Encode(Report.BaselineIntro(baseline))}</p>"))
                .Append(Report.BaselineTable(run, baseline).ToHtml())
                .Append("<ul class=\"note\">").AppendJoin("", Report.BaselineNotes(baseline).Select(n => $"<li>{Encode(n)}</li>")).Append("</ul>");
        }

        if (run.Stats.FollowUpsSent > 0)
        {
            html.Append("<h2>Follow-ups</h2>")
                .Append("<p>Requests about orders the run saw created, sent at their due time next to the reservations. Latency in ms from that due time.</p>")
                .Append(Report.FollowUpTable(run).ToHtml());
        }

        foreach (var section in run.Sections)
        {
            html.Append(Invariant($"<h2>{Encode(section.Title)}</h2><p>{Encode(section.Text)}</p>"));
            if (section.Table is not null)
            {
                html.Append(section.Table.ToHtml());
            }
            if (section.HtmlChart is not null)
            {
                html.Append(section.HtmlChart);
            }
        }

        html.Append("<h2>Outcome counts</h2>").Append(OutcomeCountChart(run));

        if (run.Lag is { } lag)
        {
            html.Append("<h2>Reservation → MySQL visibility lag</h2>")
                .Append(Invariant($"<p>Time from a 201 to the first <code>GET /api/v1/orders/{{orderNo}}</code> that says <code>\"persisted\":true</code>, for {lag.Sampled:N0} sampled 201s, in ms.</p>"))
                .Append(Report.LagTable(lag).ToHtml());
            if (lag.Points.Count > 0)
            {
                html.Append(LagHistogram(lag)).Append("<p class=\"note\">Distribution of the sampled lags (from the 201), with p50 and p99.</p>")
                    .Append(LagOverTime(lag, run.Elapsed)).Append("<p class=\"note\">Each sample's lag against when its 201 arrived: a backlog building up in the pipeline shows as a rising cloud.</p>");
            }
            html.Append(Invariant($"<p class=\"note\">{Encode(Report.LagNote(lag))}</p>"));
        }
        if (run.Drain is { } drain)
        {
            html.Append("<h2>Pipeline drain</h2>").Append(Invariant($"<p>{Encode(Report.DrainNote(drain))}</p>"));
        }

        if (!run.Stats.Details.IsEmpty)
        {
            html.Append("<h2>Unexpected answers</h2>").Append(Report.DetailsTable(run).ToHtml());
        }
        html.Append("<h2>Throughput per second</h2>").Append(Report.ThroughputTable(run).ToHtml())
            .Append("<h2>Parameters</h2>").Append(Report.Parameters(run).ToHtml())
            .Append("<h2>Machine</h2>").Append(Report.Machine(run).ToHtml())
            .Append("</body></html>\n");
        return html.ToString();
    }

    private static void AppendCards(StringBuilder html, RunSummary run)
    {
        var stats = run.Stats;
        var seconds = Math.Max(run.LoadTime.TotalSeconds, 1e-9);
        var overall = stats.OverallLatency();
        var cards = new List<(string Value, string Key)>
        {
            (Invariant($"{stats.Completed / seconds:N0}/s"), Invariant($"answered ({stats.Completed:N0} in {run.LoadTime.TotalSeconds:0.0} s under load)")),
            (Invariant($"{stats.Count(Outcome.Created):N0}"), "created (201)"),
            (Invariant($"{overall.P50:0.0} / {overall.P99:0.0} ms"), "latency p50 / p99, all"),
        };
        if (stats.Count(Outcome.Replayed) > 0)
        {
            cards.Add((Invariant($"{stats.Count(Outcome.Replayed):N0}"), "replayed (200)"));
        }
        if (run.Baseline is { } baseline)
        {
            var constant = baseline.Stats.OverallLatency();
            cards.Add((Invariant($"{constant.P50:0.0} / {constant.P99:0.0} ms"), "constant endpoint p50 / p99, all"));
        }
        if (stats.FollowUpsSent > 0)
        {
            cards.Add((Invariant($"{stats.FollowUpsAnswered:N0}"), "follow-ups answered (payments, cancels)"));
        }
        if (run.Lag is { Persisted: > 0 } lag)
        {
            cards.Add((Invariant($"{lag.FromAnswer.P50:0} / {lag.FromAnswer.P99:0} ms"), Invariant($"201 → MySQL p50 / p99 ({lag.Persisted:N0} samples)")));
        }
        if (run.Drain is { } drain)
        {
            cards.Add((Invariant($"{drain.Persisted:N0} / {drain.Checked:N0}"), drain.Sampled ? "sampled successes persisted" : "successes persisted"));
        }
        html.Append("<div class=\"cards\">");
        foreach (var (value, key) in cards)
        {
            html.Append(Invariant($"<div class=\"card\"><div class=\"v\">{Encode(value)}</div><div class=\"k\">{Encode(key)}</div></div>"));
        }
        html.Append("</div>");
    }

    private static string ThroughputChart(RunSummary run)
    {
        var samples = run.Stats.Samples.Where(s => s.Length > TimeSpan.Zero).ToList();
        if (samples.Count == 0)
        {
            return "<p class=\"note\">No samples.</p>";
        }
        var outcomes = UsedOutcomes(run);
        var end = samples[^1].Elapsed.TotalSeconds;
        var peak = samples.Max(s => Math.Max(s.Completed, s.Sent) / s.Length.TotalSeconds);
        var yTicks = SvgPlot.NiceTicks(0, peak);
        var plot = new SvgPlot(ChartWidth, 300, 0, end, 0, yTicks[^1])
            .XAxis("seconds since the start", SvgPlot.NiceTicks(0, end, 10).Where(t => t <= end), SvgPlot.Number)
            .YAxis("per second", yTicks, SvgPlot.Number);
        foreach (var sample in samples)
        {
            var from = (sample.Elapsed - sample.Length).TotalSeconds;
            var to = sample.Elapsed.TotalSeconds;
            var gap = Math.Min(0.08, (to - from) * 0.1);
            var stacked = 0.0;
            foreach (var outcome in outcomes)
            {
                var rate = sample.ByOutcome[(int)outcome] / sample.Length.TotalSeconds;
                if (rate > 0)
                {
                    plot.Rect(from + gap, to - gap, stacked, stacked + rate, Color(outcome),
                        Invariant($"{from:0.0}–{to:0.0} s: {outcome.Label()} {sample.ByOutcome[(int)outcome]:N0} ({rate:N0}/s)"));
                }
                stacked += rate;
            }
        }
        plot.Line(samples.SelectMany(s => new[] { ((s.Elapsed - s.Length).TotalSeconds, s.Sent / s.Length.TotalSeconds), (s.Elapsed.TotalSeconds, s.Sent / s.Length.TotalSeconds) }),
            "#1f2328", 1.5, "requests sent per second");
        return plot.Render("Throughput over time by outcome");
    }

    private static string LatencyOverTimeChart(RunSummary run)
    {
        var samples = run.Stats.Samples.Where(s => s.Latency.Count > 0).ToList();
        if (samples.Count == 0)
        {
            return "<p class=\"note\">No answers.</p>";
        }
        var end = samples[^1].Elapsed.TotalSeconds;
        var low = Math.Max(0.01, samples.Min(s => s.Latency.P50));
        var high = samples.Max(s => s.Latency.Max);
        var yTicks = SvgPlot.LogTicks(low, high);
        var plot = new SvgPlot(ChartWidth, 260, 0, end, yTicks[0], yTicks[^1], logY: true)
            .XAxis("seconds since the start", SvgPlot.NiceTicks(0, end, 10).Where(t => t <= end), SvgPlot.Number)
            .YAxis("ms", yTicks, SvgPlot.Number);
        static (double, double) Mid(IntervalSample s, double value) => ((s.Elapsed - (s.Length / 2)).TotalSeconds, value);
        plot.Line(samples.Select(s => Mid(s, s.Latency.Max)), "#8c959f", 1.5, "max per second", dashed: true)
            .Line(samples.Select(s => Mid(s, s.Latency.P99)), "#bf3989", 2, "p99 per second")
            .Line(samples.Select(s => Mid(s, s.Latency.P50)), "#0969da", 2, "p50 per second");
        foreach (var sample in samples)
        {
            var (x, _) = Mid(sample, 0);
            plot.Dot(x, sample.Latency.P99, 2.5, "#bf3989",
                Invariant($"{sample.Elapsed.TotalSeconds:0.0} s: p50 {sample.Latency.P50:0.00} ms, p99 {sample.Latency.P99:0.00} ms, max {sample.Latency.Max:0.00} ms"));
        }
        return plot.Render("Latency percentiles over time");
    }

    private static readonly (string Name, string Color, Func<LatencySummary, double> Value)[] PercentileMarks =
    [
        ("p50", "#0969da", l => l.P50),
        ("p90", "#1a7f37", l => l.P90),
        ("p99", "#bf3989", l => l.P99),
        ("p99.9", "#fb8500", l => l.P999),
        ("max", "#57606a", l => l.Max),
    ];

    /// <summary>One row per outcome on a logarithmic ms axis: a bar from p50 to max with a mark at each percentile.</summary>
    private static string PercentileChart(RunSummary run)
    {
        var rows = new List<(string Label, LatencySummary Latency, string Color)>();
        rows.AddRange(UsedOutcomes(run).Select(o => (o.Label(), run.Stats.Latency(o), Color(o))));
        rows.Add(("all", run.Stats.OverallLatency(), "#1f2328"));
        rows.RemoveAll(r => r.Latency.Count == 0);
        if (rows.Count == 0)
        {
            return "<p class=\"note\">No answers.</p>";
        }
        var ticks = SvgPlot.LogTicks(Math.Max(0.01, rows.Min(r => r.Latency.P50)), rows.Max(r => r.Latency.Max));
        var plot = new SvgPlot(ChartWidth, 60 + (rows.Count * 30), ticks[0], ticks[^1], rows.Count, 0, logX: true, left: 120)
            .XAxis("ms (logarithmic)", ticks, SvgPlot.Number)
            .RowLabels([.. rows.Select(r => r.Label)]);
        for (var i = 0; i < rows.Count; i++)
        {
            var (label, latency, color) = rows[i];
            plot.Rect(latency.P50, latency.Max, i + 0.42, i + 0.58, color,
                Invariant($"{label}: {latency.Count:N0} answers, p50 {latency.P50:0.00}, p90 {latency.P90:0.00}, p99 {latency.P99:0.00}, p99.9 {latency.P999:0.00}, max {latency.Max:0.00} ms"));
            foreach (var (name, markColor, value) in PercentileMarks)
            {
                plot.Dot(value(latency), i + 0.5, 5, markColor, Invariant($"{label} {name}: {value(latency):0.00} ms"));
            }
        }
        return plot.Render("Latency percentiles per outcome");
    }

    private static string OutcomeCountChart(RunSummary run)
    {
        var rows = UsedOutcomes(run).Select(o => (Outcome: o, Count: run.Stats.Count(o))).ToList();
        if (rows.Count == 0)
        {
            return "<p class=\"note\">No answers.</p>";
        }
        var total = Math.Max(1, rows.Sum(r => r.Count));
        var ticks = SvgPlot.NiceTicks(0, rows.Max(r => r.Count) * 1.15, whole: true);
        var plot = new SvgPlot(ChartWidth, 60 + (rows.Count * 30), 0, ticks[^1], rows.Count, 0, left: 120)
            .XAxis("answers", ticks, SvgPlot.Number)
            .RowLabels([.. rows.Select(r => r.Outcome.Label())]);
        for (var i = 0; i < rows.Count; i++)
        {
            var (outcome, count) = rows[i];
            plot.Rect(0, count, i + 0.2, i + 0.8, Color(outcome), Invariant($"{outcome.Label()}: {count:N0}"))
                .Label(count, i + 0.5, Invariant($"{count:N0} ({100.0 * count / total:0.0}%)"), dx: 6, dy: 4);
        }
        return plot.Render("Answers by outcome");
    }

    private static string LagHistogram(LagReport lag)
    {
        var values = lag.Points.Select(p => p.LagMs).ToList();
        var max = values.Max();
        var width = SvgPlot.NiceStep(max, 40);
        var bins = (int)Math.Floor(max / width) + 1;
        var counts = new int[bins];
        foreach (var value in values)
        {
            counts[Math.Min(bins - 1, (int)(value / width))]++;
        }
        var yTicks = SvgPlot.NiceTicks(0, counts.Max(), whole: true);
        var xEnd = bins * width;
        var plot = new SvgPlot(ChartWidth, 260, 0, xEnd, 0, yTicks[^1])
            .XAxis("ms from the 201 until persisted", SvgPlot.NiceTicks(0, xEnd, 10).Where(t => t <= xEnd), SvgPlot.Number)
            .YAxis("samples", yTicks, SvgPlot.Number);
        for (var b = 0; b < bins; b++)
        {
            if (counts[b] > 0)
            {
                plot.Rect((b * width) + (width * 0.05), ((b + 1) * width) - (width * 0.05), 0, counts[b], "#0969da",
                    Invariant($"{b * width:0.#}–{(b + 1) * width:0.#} ms: {counts[b]:N0} samples"));
            }
        }
        plot.VerticalMarker(lag.FromAnswer.P50, "#1a7f37", Invariant($"p50 {lag.FromAnswer.P50:0} ms"))
            .VerticalMarker(lag.FromAnswer.P99, "#cf222e", Invariant($"p99 {lag.FromAnswer.P99:0} ms"));
        return plot.Render("Histogram of reservation to MySQL lag");
    }

    private static string LagOverTime(LagReport lag, TimeSpan runLength)
    {
        var end = Math.Max(runLength.TotalSeconds, lag.Points.Max(p => p.AnsweredAtSeconds));
        var yTicks = SvgPlot.NiceTicks(0, lag.Points.Max(p => p.LagMs));
        var plot = new SvgPlot(ChartWidth, 240, 0, end, 0, yTicks[^1])
            .XAxis("second of the run the 201 arrived in", SvgPlot.NiceTicks(0, end, 10).Where(t => t <= end), SvgPlot.Number)
            .YAxis("lag, ms", yTicks, SvgPlot.Number);
        foreach (var point in lag.Points)
        {
            plot.Dot(point.AnsweredAtSeconds, point.LagMs, 2.5, "#0969da", Invariant($"201 at {point.AnsweredAtSeconds:0.00} s: persisted after {point.LagMs:0} ms"));
        }
        return plot.Render("Reservation to MySQL lag over the run");
    }

    private static string Legend(IEnumerable<(string Name, string Color)> entries)
        => "<div class=\"legend\">" + string.Concat(entries.Select(e => $"<span style=\"--c:{e.Color}\">{Encode(e.Name)}</span>")) + "</div>";

    private static List<Outcome> UsedOutcomes(RunSummary run) => [.. Outcomes.All.Where(o => run.Stats.Count(o) > 0)];

    private static string Color(Outcome outcome) => outcome switch
    {
        Outcome.Created => "#2da44e",
        Outcome.Replayed => "#1b7c83",
        Outcome.SoldOut => "#8c959f",
        Outcome.PurchaseLimit => "#fb8500",
        Outcome.NotStarted => "#8250df",
        Outcome.Ended => "#6e5494",
        Outcome.NotFound => "#bf8700",
        Outcome.OtherClientError => "#e85aad",
        Outcome.ServerError => "#cf222e",
        Outcome.Timeout => "#82071e",
        Outcome.TransportError => "#953800",
        _ => "#1f2328",
    };

    private static string Encode(string text) => SvgPlot.Encode(text);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
