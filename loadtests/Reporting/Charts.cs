using System.Globalization;
using ScottPlot;
using ScottPlot.TickGenerators;

namespace FlashSale.LoadTests.Reporting;

/// <summary>
/// The report's charts, drawn by ScottPlot and embedded in report.html as inline SVG: the page needs no
/// script and fetches nothing, so it opens offline, from a file, years later.
/// </summary>
internal static class Charts
{
    public const int Width = 1060;

    public static Plot New(string xLabel, string? yLabel = null)
    {
        var plot = new Plot();
        plot.XLabel(xLabel, size: 13);
        if (yLabel is not null)
        {
            plot.YLabel(yLabel, size: 13);
        }
        plot.Legend.Orientation = Orientation.Horizontal;
        plot.Legend.Alignment = Alignment.UpperLeft;
        return plot;
    }

    /// <summary>The plot as an <c>&lt;svg&gt;</c> element that scales down with the page (a viewBox).</summary>
    public static string Svg(Plot plot, int height)
    {
        var svg = plot.GetSvgXml(Width, height);
        var start = svg.IndexOf("<svg", StringComparison.Ordinal);
        return string.Create(CultureInfo.InvariantCulture, $"<svg viewBox=\"0 0 {Width} {height}\"") + svg[(start + "<svg".Length)..];
    }

    public static Color Hex(string hex) => Color.FromHex(hex);

    /// <summary>
    /// Makes <paramref name="axis"/> logarithmic: values are plotted as their log10 (see <see cref="Log"/>),
    /// ticks stand at the decades with minor ticks between, labelled with the values themselves.
    /// </summary>
    public static void Logarithmic(IAxis axis) => axis.TickGenerator = new NumericAutomatic
    {
        MinorTickGenerator = new LogMinorTickGenerator(),
        IntegerTicksOnly = true,
        LabelFormatter = exponent => Number(Math.Pow(10, exponent)),
    };

    /// <summary>A value's position on a <see cref="Logarithmic"/> axis; values below 0.01 sit at 0.01.</summary>
    public static double Log(double value) => Math.Log10(Math.Max(value, 0.01));

    /// <summary>Rows of a horizontal chart, labelled on the left, the first row on top.</summary>
    public static void Rows(Plot plot, IReadOnlyList<string> labels)
    {
        plot.Axes.Left.SetTicks([.. Enumerable.Range(0, labels.Count).Select(i => (double)i)], [.. labels]);
        plot.Axes.SetLimitsY(labels.Count - 0.4, -0.6);
    }

    public static string Number(double value)
        => Math.Abs(value) >= 100 || value == Math.Floor(value)
            ? value.ToString("#,0", CultureInfo.InvariantCulture)
            : value.ToString(Math.Abs(value) >= 1 ? "0.#" : "0.###", CultureInfo.InvariantCulture);
}
