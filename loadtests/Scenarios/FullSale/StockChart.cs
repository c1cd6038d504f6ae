using System.Globalization;
using System.Text;
using FlashSale.LoadTests.Reporting;

namespace FlashSale.LoadTests.Scenarios.FullSale;

/// <summary>The SKU over the sale: units on sale, and with the ledger the units pending and paid in MySQL, against the stock.</summary>
internal static class StockChart
{
    public static string? Render(IReadOnlyList<StockSample> samples, int stock)
    {
        if (samples.Count < 2)
        {
            return null;
        }
        var end = samples[^1].Seconds;
        var yTicks = SvgPlot.NiceTicks(0, stock * 1.1, whole: true);
        var plot = new SvgPlot(1060, 260, 0, end, 0, yTicks[^1])
            .XAxis("seconds since the campaign was warmed up", SvgPlot.NiceTicks(0, end, 10).Where(t => t <= end), SvgPlot.Number)
            .YAxis("units", yTicks, SvgPlot.Number);
        plot.Line([(0, stock), (end, stock)], "#cf222e", 1, Invariant($"stock {stock:N0}"), dashed: true);
        var legend = new List<(string Name, string Color)> { ("on sale (public view)", "#0969da"), ("stock", "#cf222e") };
        plot.Line(samples.Select(s => (s.Seconds, (double)s.Available)), "#0969da", 2, "units on sale");
        var withLedger = samples.Where(s => s.Ledger is not null).ToList();
        if (withLedger.Count > 1)
        {
            plot.Line(withLedger.Select(s => (s.Seconds, (double)(s.Ledger!.Db.Pending + s.Ledger.Db.Paid))), "#bf3989", 2, "MySQL pending + paid")
                .Line(withLedger.Select(s => (s.Seconds, (double)s.Ledger!.Db.Paid)), "#1a7f37", 2, "MySQL paid");
            legend.Add(("MySQL pending + paid", "#bf3989"));
            legend.Add(("MySQL paid", "#1a7f37"));
        }
        foreach (var sample in samples)
        {
            plot.Dot(sample.Seconds, sample.Available, 2, "#0969da", Invariant($"{sample.Seconds:0.0} s: {sample.Available:N0} of {sample.Total:N0} on sale")
                + (sample.Ledger is { } l ? Invariant($"; pending {l.Db.Pending:N0}, paid {l.Db.Paid:N0}, cancelled {l.Db.Cancelled:N0}") : ""));
        }
        var html = new StringBuilder(plot.Render("Units on sale over the sale"))
            .Append("<div class=\"legend\">");
        foreach (var (name, color) in legend)
        {
            html.Append(Invariant($"<span style=\"--c:{color}\">{SvgPlot.Encode(name)}</span>"));
        }
        return html.Append("</div>").ToString();
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
