using System.Globalization;
using FlashSale.LoadTests.EngineApi;
using FlashSale.LoadTests.Measurement;

namespace FlashSale.LoadTests.Reporting;

/// <summary>
/// The run window by window (--window): what a soak is judged on. A whole-run p99 averages a bad last minute into
/// good first ones, and an end-of-run memory figure cannot tell growth from a plateau; per window, both show.
/// </summary>
public static class WindowReport
{
    /// <summary>The line scripts read (loadtests/soak.sh): figures as plain numbers, <c>na</c> where there is none.</summary>
    public const string ResultPrefix = "WINDOWS_RESULT ";

    public const string Title = "Windows";

    private const double Megabyte = 1024 * 1024;

    public static string Intro(RunSummary run, WindowStats windows)
        => Invariant($"The run's reservations in {windows.Count} consecutive windows of {windows.Window.TotalSeconds:0.###} s, ")
            + (run.Options.IsOpenModel ? "by each request's intended start" : "by each request's send")
            + " (however late its answer came), over the load's time. Answers per second by outcome, and latency in ms of the created answers and of all answers.";

    public static TextTable WindowTable(WindowStats windows)
    {
        var table = new TextTable(
            "window", "seconds", "requests", "created/s", "sold-out/s", "limit/s", "other/s",
            "created p50", "created p99", "created max", "all p50", "all p99", "all max");
        foreach (var w in windows.Summaries())
        {
            table.Add(
                Invariant($"{w.Index + 1}"),
                Invariant($"{w.From.TotalSeconds:0.#}–{w.To.TotalSeconds:0.#}"),
                Invariant($"{w.Requests:N0}"),
                Rate(w, w.Count(Outcome.Created)),
                Rate(w, w.Count(Outcome.SoldOut)),
                Rate(w, w.Count(Outcome.PurchaseLimit)),
                Rate(w, w.Other),
                Ms(w.Created.P50), Ms(w.Created.P99), Ms(w.Created.Max),
                Ms(w.All.P50), Ms(w.All.P99), Ms(w.All.Max));
        }
        return table;
    }

    public static string ResourceIntro(ResourceSampler resources)
        => Invariant($"Sampled before the first request, at each window's end, at the end of the load (its last answer) and after the pipeline drained. ")
            + Invariant($"Ingress: resident memory (VmRSS), {resources.Ingress.Description}. ")
            + Invariant($"Redis: INFO memory used_memory at {resources.Redis} ({(resources.Redis.Nodes.Count > 1 ? "summed over the nodes, " : "")}server-wide: anything else on that Redis counts too). ")
            + "201s: the created answers the harness had received by then.";

    public static TextTable ResourceTable(ResourceSampler resources)
    {
        var table = new TextTable("sample", "load s", "Ingress RSS MB", "Redis used MB", "201s so far", "Redis bytes per 201 since start");
        var samples = resources.Samples;
        var start = samples.Count > 0 ? samples[0] : null;
        foreach (var sample in samples)
        {
            table.Add(
                sample.Label,
                sample.At is { } at ? Invariant($"{at.TotalSeconds:0.#}") : "-",
                sample.IngressRssBytes is { } rss ? Invariant($"{rss / Megabyte:0.0}") : "-",
                sample.RedisUsedBytes is { } used ? Invariant($"{used / Megabyte:0.0}") : "-",
                Invariant($"{sample.Created:N0}"),
                start is not null && !ReferenceEquals(sample, start) && BytesPerReservation(start, sample) is { } bytes ? Invariant($"{bytes:N0}") : "-");
        }
        return table;
    }

    /// <summary>The soak's three figures, as sentences: the worst window's p99, the Ingress's growth, Redis bytes per reservation.</summary>
    public static List<string> Findings(WindowStats windows, ResourceSampler? resources)
    {
        var lines = new List<string>();
        if (WorstP99(windows) is { } worst)
        {
            lines.Add(Invariant($"Worst window p99 (all answers): {worst.All.P99:0.00} ms, window {worst.Index + 1} ({worst.From.TotalSeconds:0.#}–{worst.To.TotalSeconds:0.#} s)."));
        }
        if (resources is null)
        {
            return lines;
        }
        var (rssChange, rssText) = RssChange(windows, resources);
        lines.Add(rssChange is null ? "Ingress RSS last window vs second window: " + rssText : Invariant($"Ingress RSS last window vs second window: {rssChange:+0.0;-0.0;0.0} % ({rssText})."));
        var (bytes, bytesText) = RedisBytesPerReservation(resources, ResourceSampler.EndLabel);
        lines.Add(bytes is null ? "Redis bytes per reservation: " + bytesText : Invariant($"Redis bytes per reservation: {bytes:N0} ({bytesText})."));
        var (drained, drainedText) = RedisBytesPerReservation(resources, ResourceSampler.DrainedLabel);
        if (drained is not null)
        {
            lines.Add(Invariant($"Redis bytes per reservation once the pipeline drained: {drained:N0} ({drainedText})."));
        }
        if (resources.RedisProblem is { } problem)
        {
            lines.Add("Redis: " + problem + ".");
        }
        return lines;
    }

    public static string ResultLine(WindowStats windows, ResourceSampler? resources)
    {
        var worst = WorstP99(windows);
        var rss = resources is null ? null : RssChange(windows, resources).Percent;
        var bytes = resources is null ? null : RedisBytesPerReservation(resources, ResourceSampler.EndLabel).Bytes;
        return ResultPrefix + Invariant($"windows={windows.Count} worst_p99_ms={Number(worst?.All.P99, "0.00")} ")
            + Invariant($"rss_change_pct={Number(rss, "0.0")} redis_bytes_per_reservation={Number(bytes, "0")}");
    }

    private static WindowSummary? WorstP99(WindowStats windows)
        => windows.Summaries().Where(w => w.Requests > 0).MaxBy(w => w.All.P99);

    /// <summary>The sample at the end of the second window against the one at the end of the load (the last window's end).</summary>
    private static (double? Percent, string Text) RssChange(WindowStats windows, ResourceSampler resources)
    {
        if (resources.Ingress.Pid is null)
        {
            return (null, resources.Ingress.Description + ".");
        }
        if (windows.Count < 3)
        {
            return (null, Invariant($"needs at least three windows (this run has {windows.Count}): the second window must end before the last."));
        }
        var samples = resources.Samples;
        var second = samples.FirstOrDefault(s => s.At == windows.Window * 2);
        var last = samples.FirstOrDefault(s => s.Label == ResourceSampler.EndLabel);
        if (second?.IngressRssBytes is not { } from || last?.IngressRssBytes is not { } to)
        {
            return (null, "not measured: the Ingress's memory could not be read at the second window's end or at the end of the load (has it stopped?).");
        }
        return (100.0 * (to - from) / from, Invariant($"{from / Megabyte:0.0} MB at {second.At!.Value.TotalSeconds:0.#} s, {to / Megabyte:0.0} MB at the end"));
    }

    private static (double? Bytes, string Text) RedisBytesPerReservation(ResourceSampler resources, string label)
    {
        var samples = resources.Samples;
        var start = samples.FirstOrDefault(s => s.Label == ResourceSampler.StartLabel);
        var end = samples.FirstOrDefault(s => s.Label == label);
        if (start is null || end is null || start.RedisUsedBytes is null || end.RedisUsedBytes is null)
        {
            return (null, "not measured: Redis's used_memory could not be read at the start or the end.");
        }
        if (BytesPerReservation(start, end) is not { } bytes)
        {
            return (null, "not measured: no reservation was created.");
        }
        return (bytes, Invariant($"used_memory {start.RedisUsedBytes / Megabyte:0.0} MB → {end.RedisUsedBytes / Megabyte:0.0} MB, ")
            + Invariant($"{end.RedisUsedBytes - start.RedisUsedBytes:+#,0;-#,0;0} bytes for {end.Created - start.Created:N0} reservations"));
    }

    private static double? BytesPerReservation(ResourceSample start, ResourceSample end)
        => start.RedisUsedBytes is { } from && end.RedisUsedBytes is { } to && end.Created > start.Created
            ? (double)(to - from) / (end.Created - start.Created)
            : null;

    private static string Rate(WindowSummary window, long count) => Invariant($"{window.PerSecond(count):N0}");

    private static string Number(double? value, string format) => value?.ToString(format, CultureInfo.InvariantCulture) ?? "na";

    private static string Ms(double milliseconds) => milliseconds.ToString("0.00", CultureInfo.InvariantCulture);
}
