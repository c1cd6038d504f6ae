using System.Diagnostics;
using FlashSale.LoadTests.EngineApi;
using HdrHistogram;

namespace FlashSale.LoadTests.Measurement;

/// <summary>One window of the run: its reservations' answers by outcome, and their latency.</summary>
public sealed record WindowSummary(int Index, TimeSpan From, TimeSpan To, long[] ByOutcome, LatencySummary Created, LatencySummary All)
{
    public long Requests => ByOutcome.Sum();

    public TimeSpan Length => To - From;

    public double PerSecond(long count) => Length > TimeSpan.Zero ? count / Length.TotalSeconds : 0;

    public long Count(Outcome outcome) => ByOutcome[(int)outcome];

    /// <summary>Everything but created, sold-out and purchase-limit: replays, errors, timeouts.</summary>
    public long Other => Requests - Count(Outcome.Created) - Count(Outcome.SoldOut) - Count(Outcome.PurchaseLimit);
}

/// <summary>
/// The run's reservations cut into consecutive windows of equal length (--window) by each request's intended
/// start (the open model's schedule; the closed model's send), so a window holds exactly the requests due in it,
/// however late their answers came. Every window's histograms and counters are allocated up front from the load's
/// length, so recording is what the run's own recording is: an interlocked count and a concurrent histogram's
/// record, with no lock and no allocation.
/// <para>
/// Windows run over load time: with several waves, a wave's requests continue where the last wave's time ended,
/// and the settling between waves is left out.
/// </para>
/// </summary>
public sealed class WindowStats
{
    /// <summary>Each window holds two histograms of about 190 KB; a hundred windows are enough to see a trend.</summary>
    public const int MaxWindows = 100;

    private readonly long _windowTicks;
    private readonly HistogramBase[] _all;
    private readonly HistogramBase[] _created;
    private readonly long[] _counts;
    private long _waveStart;
    private long _waveOffsetTicks;

    /// <param name="window">The length of each window.</param>
    /// <param name="loadTime">The load's length: the scenario's waves together; the last window may be shorter.</param>
    public WindowStats(TimeSpan window, TimeSpan loadTime)
    {
        Window = window;
        LoadTime = loadTime;
        _windowTicks = Math.Max(1, (long)(window.TotalSeconds * Stopwatch.Frequency));
        var count = Math.Max(1, (int)Math.Ceiling(loadTime / window));
        _all = [.. Enumerable.Range(0, count).Select(_ => NewHistogram())];
        _created = [.. Enumerable.Range(0, count).Select(_ => NewHistogram())];
        _counts = new long[count * Outcomes.Count];
    }

    public TimeSpan Window { get; }

    public TimeSpan LoadTime { get; }

    public int Count => _all.Length;

    /// <summary>
    /// A wave starts at <paramref name="waveStartTimestamp"/>, <paramref name="offset"/> into the load (the earlier
    /// waves' lengths). Called between waves, when no reservation is in flight.
    /// </summary>
    public void BeginWave(long waveStartTimestamp, TimeSpan offset)
    {
        Volatile.Write(ref _waveOffsetTicks, (long)(offset.TotalSeconds * Stopwatch.Frequency));
        Volatile.Write(ref _waveStart, waveStartTimestamp);
    }

    /// <summary>One reservation's answer; <paramref name="startTimestamp"/> is its intended start (open model) or its send (closed).</summary>
    public void Record(long startTimestamp, Outcome outcome, long micros)
    {
        var sinceLoadStart = Volatile.Read(ref _waveOffsetTicks) + startTimestamp - Volatile.Read(ref _waveStart);
        var window = (int)Math.Clamp(sinceLoadStart / _windowTicks, 0, _all.Length - 1);
        _all[window].RecordValue(micros);
        if (outcome == Outcome.Created)
        {
            _created[window].RecordValue(micros);
        }
        Interlocked.Increment(ref _counts[(window * Outcomes.Count) + (int)outcome]);
    }

    /// <summary>Every window, once the run's answers are all recorded.</summary>
    public IReadOnlyList<WindowSummary> Summaries()
    {
        var windows = new List<WindowSummary>(_all.Length);
        for (var i = 0; i < _all.Length; i++)
        {
            var byOutcome = new long[Outcomes.Count];
            for (var o = 0; o < byOutcome.Length; o++)
            {
                byOutcome[o] = Interlocked.Read(ref _counts[(i * Outcomes.Count) + o]);
            }
            var from = Window * i;
            var to = i == _all.Length - 1 ? LoadTime : Window * (i + 1);
            windows.Add(new WindowSummary(i, from, to, byOutcome, LatencySummary.Of(_created[i]), LatencySummary.Of(_all[i])));
        }
        return windows;
    }

    private static LongConcurrentHistogram NewHistogram() => new(1, LoadStats.HighestTrackableMicros, 3);
}
