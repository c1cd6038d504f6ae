namespace FlashSale.LoadTests.Reporting;

/// <summary>
/// A part of the report a scenario adds: a title, a paragraph, an optional table, and optionally a chart
/// (inline SVG) for report.html only.
/// </summary>
public sealed record ReportSection(string Title, string Text, TextTable? Table = null, string? HtmlChart = null);
