using FlashSale.LoadTests.Reporting;
using ScottPlot;

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
        var plot = Charts.New("seconds since the campaign was warmed up", "units");
        var limit = plot.Add.HorizontalLine(stock, 1, Charts.Hex("#cf222e"), LinePattern.Dashed);
        limit.LegendText = "stock";
        Line(plot, samples, s => s.Available, "#0969da", "on sale (public view)");
        var withLedger = samples.Where(s => s.Ledger is not null).ToList();
        if (withLedger.Count > 1)
        {
            Line(plot, withLedger, s => s.Ledger!.Db.Pending + s.Ledger.Db.Paid, "#bf3989", "MySQL pending + paid");
            Line(plot, withLedger, s => s.Ledger!.Db.Paid, "#1a7f37", "MySQL paid");
        }
        plot.Axes.SetLimitsY(0, stock * 1.15);
        return Charts.Svg(plot, 280);
    }

    private static void Line(Plot plot, IReadOnlyList<StockSample> samples, Func<StockSample, double> value, string color, string name)
    {
        var line = plot.Add.Scatter(samples.Select(s => s.Seconds).ToArray(), samples.Select(value).ToArray(), Charts.Hex(color));
        line.LineWidth = 2;
        line.MarkerSize = 3;
        line.LegendText = name;
    }
}
