using System.Collections.Concurrent;
using System.Diagnostics;
using FlashSale.LoadTests.EngineApi;
using FlashSale.LoadTests.Scenarios;
using HdrHistogram;

namespace FlashSale.LoadTests.Measurement;

/// <summary>A reservation the harness knows of (a 201, or an unknown attempt a replay showed reserved), kept for the checks.</summary>
public sealed record CreatedOrder(long SkuId, long BuyerId, int Quantity, string? OrderNo, string IdempotencyKey);

/// <summary>One row of the per-second table: what completed in that interval and how fast.</summary>
public sealed record IntervalSample(
    TimeSpan Elapsed,
    TimeSpan Length,
    long Sent,
    long Completed,
    long[] ByOutcome,
    LatencySummary Latency,
    long FollowUps)
{
    public double CompletedPerSecond => Length > TimeSpan.Zero ? Completed / Length.TotalSeconds : 0;
}

/// <summary>
/// Everything measured during a run. Recording is lock-free from any thread (HdrHistogram
/// <see cref="Recorder"/>s and interlocked counters); <see cref="Sample"/> is called from one
/// thread once a second to cut interval histograms and fold them into the cumulative ones.
/// </summary>
public sealed class LoadStats
{
    /// <summary>Latencies are recorded in microseconds, up to an hour: far past any timeout, so nothing is clipped in practice.</summary>
    public const long HighestTrackableMicros = 3_600_000_000;
    private const int SignificantDigits = 3;

    private readonly Recorder[] _recorders;
    private readonly HistogramBase?[] _intervals;
    private readonly HistogramBase[] _cumulative;
    private readonly HistogramBase _overall = NewHistogram();
    private readonly HistogramBase _intervalOverall = NewHistogram();
    private readonly Recorder _scheduleLag = NewRecorder();
    private readonly HistogramBase _scheduleLagTotal = NewHistogram();
    private HistogramBase? _scheduleLagInterval;
    private readonly long[] _counts = new long[Outcomes.Count];
    private readonly long[] _countsAtLastSample = new long[Outcomes.Count];
    private readonly List<IntervalSample> _samples = [];
    private readonly Lock _sampling = new();
    private readonly Recorder[] _followUpRecorders;
    private readonly HistogramBase?[] _followUpIntervals;
    private readonly HistogramBase[] _followUpCumulative;
    private readonly long[] _followUpCounts;
    private long _followUpsAtLastSample;
    private long _followUpsSent;
    private long _followUpsInFlight;
    private long _sent;
    private long _sentAtLastSample;
    private long _inFlight;
    private TimeSpan _lastSampleAt;

    private readonly bool _keepCreated;

    /// <param name="keepCreated">
    /// Keep every 201 in <see cref="Created"/> for the checks; false for a pass against the constant endpoint,
    /// whose orders nobody checks and which would otherwise hold one entry per request for the whole pass.
    /// </param>
    public LoadStats(bool keepCreated = true)
    {
        _keepCreated = keepCreated;
        _recorders = [.. Outcomes.All.Select(_ => NewRecorder())];
        _intervals = new HistogramBase?[Outcomes.Count];
        _cumulative = [.. Outcomes.All.Select(_ => NewHistogram())];
        var followUpSlots = FollowUpOutcomes.Kinds.Count * FollowUpOutcomes.All.Count;
        _followUpRecorders = [.. Enumerable.Range(0, followUpSlots).Select(_ => NewRecorder())];
        _followUpIntervals = new HistogramBase?[followUpSlots];
        _followUpCumulative = [.. Enumerable.Range(0, followUpSlots).Select(_ => NewHistogram())];
        _followUpCounts = new long[followUpSlots];
    }

    public long Sent => Interlocked.Read(ref _sent);

    public long InFlight => Interlocked.Read(ref _inFlight);

    public long Completed => Total(_counts);

    public long Count(Outcome outcome) => Interlocked.Read(ref _counts[(int)outcome]);

    public long FollowUpsSent => Interlocked.Read(ref _followUpsSent);

    public long FollowUpsInFlight => Interlocked.Read(ref _followUpsInFlight);

    public long FollowUpsAnswered => Total(_followUpCounts);

    private static long Total(long[] counts)
    {
        long total = 0;
        for (var i = 0; i < counts.Length; i++)
        {
            total += Interlocked.Read(ref counts[i]);
        }
        return total;
    }

    public long Count(FollowUpKind kind, FollowUpOutcome outcome) => Interlocked.Read(ref _followUpCounts[FollowUpSlot(kind, outcome)]);

    public long Count(FollowUpKind kind)
    {
        long total = 0;
        foreach (var outcome in FollowUpOutcomes.All)
        {
            total += Count(kind, outcome);
        }
        return total;
    }

    /// <summary>Open model: requests that found --max-in-flight full at their intended start and went late.</summary>
    public long LateStarts { get; set; }

    /// <summary>Open model: requests whose intended start passed but that were still waiting for a slot when the run ended.</summary>
    public long NotSent { get; set; }

    public ConcurrentQueue<CreatedOrder> Created { get; } = new();

    /// <summary>Attempts whose effect is unknown (5xx, timeout, transport error), replayed after the run to learn it.</summary>
    public ConcurrentQueue<ReserveRequest> Unknown { get; } = new();

    /// <summary>What the outcome alone does not say (status and problem type, transport error kind), counted.</summary>
    public ConcurrentDictionary<string, long> Details { get; } = new(StringComparer.Ordinal);

    public IReadOnlyList<IntervalSample> Samples
    {
        get
        {
            lock (_sampling)
            {
                return [.. _samples];
            }
        }
    }

    public void RecordSent()
    {
        Interlocked.Increment(ref _sent);
        Interlocked.Increment(ref _inFlight);
    }

    public void RecordFollowUpSent()
    {
        Interlocked.Increment(ref _followUpsSent);
        Interlocked.Increment(ref _followUpsInFlight);
    }

    public void RecordFollowUp(FollowUpAction action, FollowUpResult result, long latencyStopwatchTicks)
    {
        var slot = FollowUpSlot(action.Kind, result.Outcome);
        _followUpRecorders[slot].RecordValue(ToMicros(latencyStopwatchTicks));
        Interlocked.Increment(ref _followUpCounts[slot]);
        Interlocked.Decrement(ref _followUpsInFlight);
        if (result.Detail is not null)
        {
            Details.AddOrUpdate($"{action.Kind.Label()} {result.Outcome.Label()}: {result.Detail}", 1, static (_, n) => n + 1);
        }
    }

    public void RecordScheduleLag(long stopwatchTicks) => _scheduleLag.RecordValue(ToMicros(stopwatchTicks));

    /// <summary>The run cut into windows by intended start (--window); null without.</summary>
    public WindowStats? Windows { get; init; }

    /// <summary>A reservation's answer: its latency runs from <paramref name="startTimestamp"/> (intended start, or send) to <paramref name="answeredTimestamp"/>.</summary>
    public void Record(ReserveRequest request, ReserveResult result, long startTimestamp, long answeredTimestamp)
    {
        var micros = ToMicros(answeredTimestamp - startTimestamp);
        _recorders[(int)result.Outcome].RecordValue(micros);
        Windows?.Record(startTimestamp, result.Outcome, micros);
        Interlocked.Increment(ref _counts[(int)result.Outcome]);
        Interlocked.Decrement(ref _inFlight);
        if (result.Outcome == Outcome.Created && _keepCreated)
        {
            Created.Enqueue(new CreatedOrder(request.SkuId, request.BuyerId, request.Quantity, result.OrderNo, request.IdempotencyKey));
        }
        else if (result.Outcome.IsUnknown())
        {
            Unknown.Enqueue(request);
        }
        if (result.Detail is not null)
        {
            Details.AddOrUpdate($"{result.Outcome.Label()}: {result.Detail}", 1, static (_, n) => n + 1);
        }
    }

    /// <summary>Closes the interval since the last call; <paramref name="elapsed"/> is the time since the run started.</summary>
    public IntervalSample Sample(TimeSpan elapsed)
    {
        lock (_sampling)
        {
            _intervalOverall.Reset();
            var byOutcome = new long[Outcomes.Count];
            for (var i = 0; i < _recorders.Length; i++)
            {
                var interval = _recorders[i].GetIntervalHistogram(_intervals[i]);
                _intervals[i] = interval;
                _cumulative[i].Add(interval);
                _intervalOverall.Add(interval);
                var count = Interlocked.Read(ref _counts[i]);
                byOutcome[i] = count - _countsAtLastSample[i];
                _countsAtLastSample[i] = count;
            }
            for (var i = 0; i < _followUpRecorders.Length; i++)
            {
                var interval = _followUpRecorders[i].GetIntervalHistogram(_followUpIntervals[i]);
                _followUpIntervals[i] = interval;
                _followUpCumulative[i].Add(interval);
            }
            var followUps = FollowUpsAnswered;
            _scheduleLagInterval = _scheduleLag.GetIntervalHistogram(_scheduleLagInterval);
            _scheduleLagTotal.Add(_scheduleLagInterval);
            _overall.Add(_intervalOverall);

            var sent = Sent;
            var sample = new IntervalSample(
                elapsed, elapsed - _lastSampleAt, sent - _sentAtLastSample, byOutcome.Sum(), byOutcome,
                LatencySummary.Of(_intervalOverall), followUps - _followUpsAtLastSample);
            _sentAtLastSample = sent;
            _followUpsAtLastSample = followUps;
            _lastSampleAt = elapsed;
            _samples.Add(sample);
            return sample;
        }
    }

    /// <summary>Cumulative latency of one outcome, as of the last <see cref="Sample"/>.</summary>
    public LatencySummary Latency(Outcome outcome)
    {
        lock (_sampling)
        {
            return LatencySummary.Of(_cumulative[(int)outcome]);
        }
    }

    /// <summary>Cumulative latency of every outcome together, as of the last <see cref="Sample"/>.</summary>
    public LatencySummary OverallLatency()
    {
        lock (_sampling)
        {
            return LatencySummary.Of(_overall);
        }
    }

    /// <summary>Cumulative latency of one kind of follow-up with one outcome, as of the last <see cref="Sample"/>.</summary>
    public LatencySummary Latency(FollowUpKind kind, FollowUpOutcome outcome)
    {
        lock (_sampling)
        {
            return LatencySummary.Of(_followUpCumulative[FollowUpSlot(kind, outcome)]);
        }
    }

    public LatencySummary ScheduleLag()
    {
        lock (_sampling)
        {
            return LatencySummary.Of(_scheduleLagTotal);
        }
    }

    private static int FollowUpSlot(FollowUpKind kind, FollowUpOutcome outcome) => ((int)kind * FollowUpOutcomes.All.Count) + (int)outcome;

    private static long ToMicros(long stopwatchTicks)
        => Math.Clamp(stopwatchTicks * 1_000_000 / Stopwatch.Frequency, 0, HighestTrackableMicros);

    private static LongHistogram NewHistogram() => new(HighestTrackableMicros, SignificantDigits);

    // Many threads record at once, so the recorder's histograms must be the concurrent kind.
    private static Recorder NewRecorder() => new(1, HighestTrackableMicros, SignificantDigits,
        static (id, lowest, highest, digits) => new LongConcurrentHistogram(id, lowest, highest, digits));
}

/// <summary>A histogram's count and percentiles, in milliseconds.</summary>
public sealed record LatencySummary(long Count, double P50, double P90, double P99, double P999, double Max)
{
    public static LatencySummary Of(HistogramBase histogram)
        => histogram.TotalCount == 0
            ? new LatencySummary(0, 0, 0, 0, 0, 0)
            : new LatencySummary(
                histogram.TotalCount,
                Ms(histogram.GetValueAtPercentile(50)),
                Ms(histogram.GetValueAtPercentile(90)),
                Ms(histogram.GetValueAtPercentile(99)),
                Ms(histogram.GetValueAtPercentile(99.9)),
                Ms(histogram.GetMaxValue()));

    private static double Ms(long micros) => micros / 1000.0;
}
