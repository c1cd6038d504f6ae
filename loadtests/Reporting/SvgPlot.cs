using System.Globalization;
using System.Net;
using System.Text;

namespace FlashSale.LoadTests.Reporting;

/// <summary>
/// A minimal SVG plot: a plot area with linear or logarithmic axes, grid lines, and rectangles,
/// lines and dots placed in data coordinates. Enough for the report's charts without a charting
/// library or any script: the report must open offline, from a file, years later.
/// Hovering an element shows its <c>title</c> (a browser tooltip, no JavaScript).
/// </summary>
internal sealed class SvgPlot
{
    private const double Right = 18;
    private const double Top = 12;
    private const double Bottom = 44;

    private readonly StringBuilder _grid = new();
    private readonly StringBuilder _marks = new();
    private readonly double _width;
    private readonly double _height;
    private readonly double _left;
    private readonly double _xMin;
    private readonly double _xMax;
    private readonly double _yMin;
    private readonly double _yMax;
    private readonly bool _logX;
    private readonly bool _logY;
    private int _markers;

    public SvgPlot(double width, double height, double xMin, double xMax, double yMin, double yMax, bool logX = false, bool logY = false, double left = 70)
    {
        _width = width;
        _height = height;
        _left = left;
        _logX = logX;
        _logY = logY;
        // A range may run backwards (category rows listed top down), but must not be empty.
        _xMin = logX ? Math.Max(xMin, 1e-6) : xMin;
        _xMax = xMax != _xMin ? xMax : _xMin + (logX ? _xMin * 10 : 1);
        _yMin = logY ? Math.Max(yMin, 1e-6) : yMin;
        _yMax = yMax != _yMin ? yMax : _yMin + (logY ? _yMin * 10 : 1);
    }

    private double PlotWidth => _width - _left - Right;

    private double PlotHeight => _height - Top - Bottom;

    public double X(double value)
    {
        var t = (Scale(value, _logX, _xMin) - Scale(_xMin, _logX, _xMin)) / (Scale(_xMax, _logX, _xMin) - Scale(_xMin, _logX, _xMin));
        return _left + (Math.Clamp(t, 0, 1) * PlotWidth);
    }

    public double Y(double value)
    {
        var t = (Scale(value, _logY, _yMin) - Scale(_yMin, _logY, _yMin)) / (Scale(_yMax, _logY, _yMin) - Scale(_yMin, _logY, _yMin));
        return Top + ((1 - Math.Clamp(t, 0, 1)) * PlotHeight);
    }

    public SvgPlot XAxis(string title, IEnumerable<double> ticks, Func<double, string> label)
    {
        foreach (var tick in ticks)
        {
            var x = X(tick);
            _grid.Append(Invariant($"<line x1=\"{x:0.#}\" y1=\"{Top}\" x2=\"{x:0.#}\" y2=\"{Top + PlotHeight:0.#}\" class=\"grid\"/>"))
                .Append(Invariant($"<text x=\"{x:0.#}\" y=\"{Top + PlotHeight + 16:0.#}\" text-anchor=\"middle\">{Encode(label(tick))}</text>"));
        }
        _grid.Append(Invariant($"<text x=\"{_left + (PlotWidth / 2):0.#}\" y=\"{_height - 6:0.#}\" text-anchor=\"middle\" class=\"axis-title\">{Encode(title)}</text>"));
        return this;
    }

    public SvgPlot YAxis(string title, IEnumerable<double> ticks, Func<double, string> label)
    {
        foreach (var tick in ticks)
        {
            var y = Y(tick);
            _grid.Append(Invariant($"<line x1=\"{_left:0.#}\" y1=\"{y:0.#}\" x2=\"{_left + PlotWidth:0.#}\" y2=\"{y:0.#}\" class=\"grid\"/>"))
                .Append(Invariant($"<text x=\"{_left - 6:0.#}\" y=\"{y + 4:0.#}\" text-anchor=\"end\">{Encode(label(tick))}</text>"));
        }
        var middle = Top + (PlotHeight / 2);
        _grid.Append(Invariant($"<text x=\"14\" y=\"{middle:0.#}\" text-anchor=\"middle\" transform=\"rotate(-90 14 {middle:0.#})\" class=\"axis-title\">{Encode(title)}</text>"));
        return this;
    }

    /// <summary>Category rows: row i spans y from i to i + 1, labelled at its middle.</summary>
    public SvgPlot RowLabels(IReadOnlyList<string> labels)
    {
        for (var i = 0; i < labels.Count; i++)
        {
            _grid.Append(Invariant($"<text x=\"{_left - 8:0.#}\" y=\"{Y(i + 0.5) + 4:0.#}\" text-anchor=\"end\">{Encode(labels[i])}</text>"));
        }
        return this;
    }

    public SvgPlot Rect(double x0, double x1, double y0, double y1, string color, string? title = null)
    {
        var left = Math.Min(X(x0), X(x1));
        var top = Math.Min(Y(y0), Y(y1));
        var width = Math.Abs(X(x1) - X(x0));
        var height = Math.Abs(Y(y1) - Y(y0));
        if (width <= 0 || height <= 0)
        {
            return this;
        }
        _marks.Append(Invariant($"<rect x=\"{left:0.##}\" y=\"{top:0.##}\" width=\"{width:0.##}\" height=\"{height:0.##}\" fill=\"{color}\">"))
            .Append(Title(title)).Append("</rect>");
        return this;
    }

    public SvgPlot Line(IEnumerable<(double X, double Y)> points, string color, double width = 2, string? title = null, bool dashed = false)
    {
        var path = string.Join(" ", points.Select(p => Invariant($"{X(p.X):0.#},{Y(p.Y):0.#}")));
        if (path.Length == 0)
        {
            return this;
        }
        _marks.Append(Invariant($"<polyline points=\"{path}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"{width:0.#}\"{(dashed ? " stroke-dasharray=\"5 4\"" : "")}>"))
            .Append(Title(title)).Append("</polyline>");
        return this;
    }

    public SvgPlot Dot(double x, double y, double radius, string color, string? title = null)
    {
        _marks.Append(Invariant($"<circle cx=\"{X(x):0.#}\" cy=\"{Y(y):0.#}\" r=\"{radius:0.#}\" fill=\"{color}\">")).Append(Title(title)).Append("</circle>");
        return this;
    }

    /// <summary>A vertical marker across the plot, labelled at the top (a percentile on a histogram).</summary>
    public SvgPlot VerticalMarker(double x, string color, string label)
    {
        var px = X(x);
        // Near the right edge the label goes to the left of the line, so it stays inside the chart.
        var leftward = px > _left + (PlotWidth * 0.85);
        _marks.Append(Invariant($"<line x1=\"{px:0.#}\" y1=\"{Top:0.#}\" x2=\"{px:0.#}\" y2=\"{Top + PlotHeight:0.#}\" stroke=\"{color}\" stroke-width=\"1.5\" stroke-dasharray=\"4 3\"/>"))
            .Append(Invariant($"<text x=\"{px + (leftward ? -4 : 4):0.#}\" y=\"{Top + 12 + (_markers++ * 14):0.#}\" text-anchor=\"{(leftward ? "end" : "start")}\" fill=\"{color}\">{Encode(label)}</text>"));
        return this;
    }

    public SvgPlot Label(double x, double y, string text, string anchor = "start", double dx = 0, double dy = 0)
    {
        _marks.Append(Invariant($"<text x=\"{X(x) + dx:0.#}\" y=\"{Y(y) + dy:0.#}\" text-anchor=\"{anchor}\">{Encode(text)}</text>"));
        return this;
    }

    public string Render(string ariaLabel)
        => new StringBuilder()
            .Append(Invariant($"<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {_width:0} {_height:0}\" width=\"{_width:0}\" height=\"{_height:0}\" role=\"img\" aria-label=\"{Encode(ariaLabel)}\">"))
            .Append(_grid)
            .Append(Invariant($"<rect x=\"{_left:0.#}\" y=\"{Top:0.#}\" width=\"{PlotWidth:0.#}\" height=\"{PlotHeight:0.#}\" class=\"frame\"/>"))
            .Append(_marks)
            .Append("</svg>")
            .ToString();

    /// <summary>About <paramref name="target"/> round ticks (steps of 1, 2, 2.5 or 5 × 10^k) from <paramref name="min"/> to at least <paramref name="max"/>.</summary>
    /// <param name="whole">Counts: no step below 1.</param>
    public static IReadOnlyList<double> NiceTicks(double min, double max, int target = 6, bool whole = false)
    {
        var step = NiceStep(max - min, target);
        if (whole)
        {
            step = Math.Max(1, Math.Ceiling(step));
        }
        var ticks = new List<double>();
        for (var v = Math.Floor(min / step) * step; v <= max + (step * 0.999); v += step)
        {
            ticks.Add(Math.Round(v, 10));
        }
        return ticks;
    }

    public static double NiceStep(double range, int target = 6)
    {
        if (range <= 0 || double.IsNaN(range))
        {
            return 1;
        }
        var rough = range / target;
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        return new[] { 1, 2, 2.5, 5, 10 }.Select(m => m * magnitude).First(s => s >= rough);
    }

    /// <summary>Decades from below <paramref name="min"/> to above <paramref name="max"/>; with few decades, also 2× and 5×.</summary>
    public static IReadOnlyList<double> LogTicks(double min, double max)
    {
        var low = Math.Floor(Math.Log10(Math.Max(min, 1e-6)));
        var high = Math.Ceiling(Math.Log10(Math.Max(max, min * 10)));
        var fine = high - low <= 3;
        var ticks = new List<double>();
        for (var e = low; e <= high; e++)
        {
            var decade = Math.Pow(10, e);
            ticks.Add(decade);
            if (fine && e < high)
            {
                ticks.Add(2 * decade);
                ticks.Add(5 * decade);
            }
        }
        return ticks;
    }

    public static string Number(double value)
        => Math.Abs(value) >= 100 || value == Math.Floor(value)
            ? value.ToString("#,0", CultureInfo.InvariantCulture)
            : value.ToString(Math.Abs(value) >= 1 ? "0.#" : "0.###", CultureInfo.InvariantCulture);

    public static string Encode(string text) => WebUtility.HtmlEncode(text);

    private static string Title(string? title) => title is null ? "" : $"<title>{Encode(title)}</title>";

    private static double Scale(double value, bool log, double floor) => log ? Math.Log10(Math.Max(value, floor)) : value;

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
