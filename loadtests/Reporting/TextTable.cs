using System.Net;
using System.Text;

namespace FlashSale.LoadTests.Reporting;

/// <summary>
/// A table rendered as aligned plain text for the console or as a Markdown table for the report.
/// Columns whose cells are all numbers are right-aligned, the others left-aligned.
/// </summary>
public sealed class TextTable(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public TextTable Add(params string[] cells)
    {
        if (cells.Length != headers.Length)
        {
            throw new ArgumentException($"A row needs {headers.Length} cells, got {cells.Length}.", nameof(cells));
        }
        _rows.Add(cells);
        return this;
    }

    public string ToText(string indent = "  ")
    {
        var widths = headers.Select((h, i) => _rows.Select(r => r[i].Length).Append(h.Length).Max()).ToArray();
        var numeric = NumericColumns();
        var text = new StringBuilder();
        AppendLine(text, indent, headers, widths, numeric);
        text.Append(indent).AppendJoin("  ", widths.Select(w => new string('-', w))).AppendLine();
        foreach (var row in _rows)
        {
            AppendLine(text, indent, row, widths, numeric);
        }
        return text.ToString();
    }

    public string ToMarkdown()
    {
        var numeric = NumericColumns();
        var text = new StringBuilder();
        text.Append("| ").AppendJoin(" | ", headers).AppendLine(" |");
        text.Append("| ").AppendJoin(" | ", numeric.Select(n => n ? "---:" : "---")).AppendLine(" |");
        foreach (var row in _rows)
        {
            text.Append("| ").AppendJoin(" | ", row).AppendLine(" |");
        }
        return text.ToString();
    }

    public string ToHtml()
    {
        var numeric = NumericColumns();
        var text = new StringBuilder("<table><thead><tr>");
        for (var i = 0; i < headers.Length; i++)
        {
            text.Append(numeric[i] ? "<th class=\"num\">" : "<th>").Append(WebUtility.HtmlEncode(headers[i])).Append("</th>");
        }
        text.Append("</tr></thead><tbody>");
        foreach (var row in _rows)
        {
            text.Append("<tr>");
            for (var i = 0; i < row.Length; i++)
            {
                text.Append(numeric[i] ? "<td class=\"num\">" : "<td>").Append(WebUtility.HtmlEncode(row[i])).Append("</td>");
            }
            text.Append("</tr>");
        }
        return text.Append("</tbody></table>").ToString();
    }

    private bool[] NumericColumns()
        => [.. headers.Select((_, i) => _rows.Count > 0 && _rows.All(r => IsNumber(r[i])))];

    private static bool IsNumber(string cell)
        => cell.Length > 0 && char.IsAsciiDigit(cell[0]) && cell.All(c => char.IsAsciiDigit(c) || c is ',' or '.' or '%' or '-' or '–');

    private static void AppendLine(StringBuilder text, string indent, string[] cells, int[] widths, bool[] numeric)
    {
        text.Append(indent);
        for (var i = 0; i < cells.Length; i++)
        {
            if (i > 0)
            {
                text.Append("  ");
            }
            text.Append(numeric[i] ? cells[i].PadLeft(widths[i]) : cells[i].PadRight(widths[i]));
        }
        text.AppendLine();
    }
}
