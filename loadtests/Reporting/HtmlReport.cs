using System.Net;
using System.Text;
using FlashSale.LoadTests.EngineApi;
using FlashSale.LoadTests.Measurement;
using FlashSale.LoadTests.Pipeline;
using ScottPlot;

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
        svg { display: block; max-width: 100%; height: auto; }
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
            .Append(Invariant($"<div class=\"sub\">Started {run.StartedUtc:yyyy-MM-dd HH:mm:ss} UTC against {Encode(Report.TargetsText(run))}, campaign <code>{Encode(run.Sale.CampaignId)}</code>; "))
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
            .Append("<p class=\"note\">Answers per second by outcome (stacked), and requests sent per second (line).</p>");

        html.Append("<h2>Latency over time</h2>")
            .Append(LatencyOverTimeChart(run))
            .Append(Invariant($"<p class=\"note\">Per second, all outcomes together, logarithmic scale{(options.IsOpenModel ? "; measured from each request's intended start (coordinated omission corrected)" : "")}.</p>"));

        html.Append("<h2>Latency per outcome</h2>")
            .Append(PercentileChart(run))
            .Append(Report.OutcomeTable(run).ToHtml());
        var notes = Report.HarnessNotes(run).Concat(run.ScenarioNotes).ToList();
        if (notes.Count > 0)
        {
            html.Append("<ul class=\"note\">").AppendJoin("", notes.Select(n => $"<li>{Encode(n)}</li>")).Append("</ul>");
        }

        if (run.Stats.Windows is { } windows)
        {
            html.Append(Invariant($"<h2>{WindowReport.Title}</h2><p>{Encode(WindowReport.Intro(run, windows))}</p>"))
                .Append(WindowReport.WindowTable(windows).ToHtml());
            if (run.Resources is { } resources)
            {
                html.Append(Invariant($"<h3>Engine memory</h3><p>{Encode(WindowReport.ResourceIntro(resources))}</p>"))
                    .Append(WindowReport.ResourceTable(resources).ToHtml());
            }
            html.Append("<ul class=\"note\">").AppendJoin("", WindowReport.Findings(windows, run.Resources).Select(n => $"<li>{Encode(n)}</li>")).Append("</ul>");
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
        var plot = Charts.New("seconds since the start", "per second");
        var stacked = new double[samples.Count];
        foreach (var outcome in UsedOutcomes(run))
        {
            var bars = new List<Bar>();
            for (var i = 0; i < samples.Count; i++)
            {
                var sample = samples[i];
                var rate = sample.ByOutcome[(int)outcome] / sample.Length.TotalSeconds;
                var width = sample.Length.TotalSeconds;
                bars.Add(new Bar
                {
                    Position = sample.Elapsed.TotalSeconds - (width / 2),
                    Size = width * 0.85,
                    ValueBase = stacked[i],
                    Value = stacked[i] + rate,
                    FillColor = Charts.Hex(Color(outcome)),
                    LineWidth = 0,
                });
                stacked[i] += rate;
            }
            plot.Add.Bars(bars).LegendText = outcome.Label();
        }
        double[] starts = [0, .. samples.Select(s => s.Elapsed.TotalSeconds)];
        double[] rates = [.. samples.Select(s => s.Sent / s.Length.TotalSeconds), samples[^1].Sent / samples[^1].Length.TotalSeconds];
        var sent = plot.Add.ScatterLine(starts, rates, Charts.Hex("#1f2328"));
        sent.ConnectStyle = ConnectStyle.StepHorizontal;
        sent.LineWidth = 1.5f;
        sent.LegendText = "sent";
        plot.Axes.Margins(bottom: 0);
        return Charts.Svg(plot, 320);
    }

    private static string LatencyOverTimeChart(RunSummary run)
    {
        var samples = run.Stats.Samples.Where(s => s.Latency.Count > 0).ToList();
        if (samples.Count == 0)
        {
            return "<p class=\"note\">No answers.</p>";
        }
        var plot = Charts.New("seconds since the start", "ms");
        double[] seconds = [.. samples.Select(s => (s.Elapsed - (s.Length / 2)).TotalSeconds)];
        foreach (var (name, color, value) in new (string, string, Func<LatencySummary, double>)[]
        {
            ("max", "#8c959f", l => l.Max), ("p99", "#bf3989", l => l.P99), ("p50", "#0969da", l => l.P50),
        })
        {
            var line = plot.Add.Scatter(seconds, samples.Select(s => Charts.Log(value(s.Latency))).ToArray(), Charts.Hex(color));
            line.LegendText = name;
            line.LineWidth = 2;
            line.MarkerSize = 4;
        }
        Charts.Logarithmic(plot.Axes.Left);
        return Charts.Svg(plot, 280);
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
        var plot = Charts.New("ms (logarithmic)");
        for (var i = 0; i < rows.Count; i++)
        {
            var range = plot.Add.Line(Charts.Log(rows[i].Latency.P50), i, Charts.Log(rows[i].Latency.Max), i);
            range.LineWidth = 6;
            range.LineColor = Charts.Hex(rows[i].Color).WithAlpha(0.5);
            range.MarkerSize = 0;
        }
        foreach (var (name, color, value) in PercentileMarks)
        {
            var marks = plot.Add.ScatterPoints(
                rows.Select(r => Charts.Log(value(r.Latency))).ToArray(), rows.Select((_, i) => (double)i).ToArray(), Charts.Hex(color));
            marks.MarkerSize = 10;
            marks.LegendText = name;
        }
        Charts.Logarithmic(plot.Axes.Bottom);
        Charts.Rows(plot, [.. rows.Select(r => r.Label)]);
        return Charts.Svg(plot, 90 + (rows.Count * 32));
    }

    private static string OutcomeCountChart(RunSummary run)
    {
        var rows = UsedOutcomes(run).Select(o => (Outcome: o, Count: run.Stats.Count(o))).ToList();
        if (rows.Count == 0)
        {
            return "<p class=\"note\">No answers.</p>";
        }
        var total = Math.Max(1, rows.Sum(r => r.Count));
        var plot = Charts.New("answers");
        var bars = plot.Add.Bars(rows.Select((r, i) => new Bar
        {
            Position = i,
            Value = r.Count,
            FillColor = Charts.Hex(Color(r.Outcome)),
            LineWidth = 0,
            Label = Invariant($"{r.Count:N0} ({100.0 * r.Count / total:0.0}%)"),
        }).ToList());
        bars.Horizontal = true;
        Charts.Rows(plot, [.. rows.Select(r => r.Outcome.Label())]);
        plot.Axes.SetLimitsX(0, rows.Max(r => r.Count) * 1.2);
        return Charts.Svg(plot, 70 + (rows.Count * 32));
    }

    private static string LagHistogram(LagReport lag)
    {
        var values = lag.Points.Select(p => p.LagMs).ToList();
        var width = NiceStep(values.Max() / 40);
        var counts = values.GroupBy(v => (int)(v / width)).ToDictionary(g => g.Key, g => g.Count());
        var plot = Charts.New("ms from the 201 until persisted", "samples");
        plot.Add.Bars(counts.Select(c => new Bar
        {
            Position = (c.Key + 0.5) * width,
            Size = width * 0.9,
            Value = c.Value,
            FillColor = Charts.Hex("#0969da"),
            LineWidth = 0,
        }).ToList());
        foreach (var (name, value, color) in new[] { ("p50", lag.FromAnswer.P50, "#1a7f37"), ("p99", lag.FromAnswer.P99, "#cf222e") })
        {
            var marker = plot.Add.VerticalLine(value, 1.5f, Charts.Hex(color), LinePattern.Dashed);
            marker.LegendText = Invariant($"{name} {value:0} ms");
        }
        plot.Axes.Margins(bottom: 0);
        return Charts.Svg(plot, 280);
    }

    private static string LagOverTime(LagReport lag, TimeSpan runLength)
    {
        var plot = Charts.New("second of the run the 201 arrived in", "lag, ms");
        plot.Add.ScatterPoints(lag.Points.Select(p => p.AnsweredAtSeconds).ToArray(), lag.Points.Select(p => p.LagMs).ToArray(), Charts.Hex("#0969da"))
            .MarkerSize = 4;
        plot.Axes.SetLimitsX(0, Math.Max(runLength.TotalSeconds, lag.Points.Max(p => p.AnsweredAtSeconds)));
        plot.Axes.Margins(bottom: 0);
        return Charts.Svg(plot, 260);
    }

    /// <summary>The smallest of 1, 2, 2.5 and 5 × 10^k that is at least <paramref name="rough"/>: round bin widths.</summary>
    private static double NiceStep(double rough)
    {
        if (rough <= 0 || double.IsNaN(rough))
        {
            return 1;
        }
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        return new[] { 1, 2, 2.5, 5, 10 }.Select(m => m * magnitude).First(s => s >= rough);
    }

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
        Outcome.RateLimited => "#0969da",
        Outcome.Busy => "#9a6700",
        Outcome.AdmissionRequired => "#8250df",
        Outcome.CouponUnavailable => "#d4a72c",
        Outcome.OtherClientError => "#e85aad",
        Outcome.ServerError => "#cf222e",
        Outcome.Timeout => "#82071e",
        Outcome.TransportError => "#953800",
        _ => "#1f2328",
    };

    private static string Encode(string text) => WebUtility.HtmlEncode(text);

}
