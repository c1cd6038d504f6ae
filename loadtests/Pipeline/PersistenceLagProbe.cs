using System.Collections.Concurrent;
using System.Diagnostics;
using FlashSale.LoadTests.EngineApi;
using FlashSale.LoadTests.Measurement;
using FlashSale.LoadTests.Scenarios;
using FlashSale.LoadTests.Verification;
using HdrHistogram;

namespace FlashSale.LoadTests.Pipeline;

/// <summary>One sampled order: when its 201 arrived (seconds into the run) and how long until MySQL had it.</summary>
public sealed record LagPoint(double AnsweredAtSeconds, double LagMs);

/// <summary>What the lag probe measured. Lags are upper bounds: the first read that saw the order persisted, less the 201's arrival.</summary>
public sealed record LagReport(
    int SamplesPerSecond,
    TimeSpan PollInterval,
    TimeSpan Timeout,
    long Sampled,
    long Persisted,
    long TimedOutInRedis,
    long TimedOutNotFound,
    long TimedOutReadFailing,
    long Reads,
    long ReadFailures,
    double ReadsPerSecond,
    LatencySummary FromAnswer,
    LatencySummary FromCreatedAt,
    long AheadOfCreatedAt,
    IReadOnlyList<LagPoint> Points,
    IReadOnlyList<string> TimeoutExamples)
{
    public long TimedOut => TimedOutInRedis + TimedOutNotFound + TimedOutReadFailing;

    public InvariantResult ToInvariant()
    {
        var name = Invariant($"every sampled order reached MySQL within {Timeout.TotalSeconds:0.###} s");
        if (Sampled == 0)
        {
            return new InvariantResult(name, true, "no 201 was sampled (no reservation succeeded)");
        }
        return TimedOut == 0
            ? new InvariantResult(name, true, Invariant($"{Persisted:N0} of {Sampled:N0} sampled orders persisted, slowest after {FromAnswer.Max:0} ms"))
            : new InvariantResult(name, false,
                Invariant($"{TimedOut:N0} of {Sampled:N0} sampled orders were not persisted in time: {TimedOutInRedis:N0} still only in Redis, ")
                + Invariant($"{TimedOutNotFound:N0} not found at all, {TimedOutReadFailing:N0} unreadable (e.g. {string.Join("; ", TimeoutExamples)})"));
    }
}

/// <summary>
/// Measures how long a reservation takes from its 201 to MySQL (Redis outbox → relay → Kafka →
/// persister → shard): follows a sample of the 201s, reading <c>GET /api/v1/orders/{orderNo}</c> with the
/// buyer's token every poll interval until it says <c>"persisted":true</c>.
/// <para>
/// Samples are spaced evenly (at most one per 1/n s), not the first n of each second, so a sell-out
/// over in two seconds is sampled across those two seconds. The probe has its own small connection
/// pool and at most <see cref="MaxConcurrentReads"/> reads in flight, so it neither takes the load's
/// connections nor grows with the load: its read rate is in the report, to judge what it cost.
/// </para>
/// </summary>
public sealed class PersistenceLagProbe : IDisposable
{
    public const int MaxConcurrentReads = 8;

    /// <summary>A read stuck this long is counted as failed and the sample polled again, until its own deadline.</summary>
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(5);

    private const int MaxTimeoutExamples = 3;

    private readonly EngineClient _client;
    private readonly int _samplesPerSecond;
    private readonly TimeSpan _poll;
    private readonly TimeSpan _timeout;
    private readonly long _spacing;
    private readonly SemaphoreSlim _readSlots = new(MaxConcurrentReads, MaxConcurrentReads);
    private readonly LongConcurrentHistogram _fromAnswer = new(1, LoadStats.HighestTrackableMicros, 3);
    private readonly LongConcurrentHistogram _fromCreatedAt = new(1, LoadStats.HighestTrackableMicros, 3);
    private readonly ConcurrentQueue<(long AnsweredAt, double LagMs)> _points = new();
    private readonly ConcurrentQueue<string> _timeoutExamples = new();
    private long _nextSampleAt;
    private long _firstSampleAt;
    private long _sampled;
    private long _pending;
    private long _persisted;
    private long _timedOutInRedis;
    private long _timedOutNotFound;
    private long _timedOutReadFailing;
    private long _reads;
    private long _readFailures;
    private long _aheadOfCreatedAt;
    private Exception? _failure;

    public PersistenceLagProbe(EngineClient client, int samplesPerSecond, TimeSpan pollInterval, TimeSpan timeout)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(samplesPerSecond);
        _client = client;
        _samplesPerSecond = samplesPerSecond;
        _poll = pollInterval;
        _timeout = timeout;
        _spacing = Stopwatch.Frequency / samplesPerSecond;
    }

    public long Pending => Interlocked.Read(ref _pending);

    public long Persisted => Interlocked.Read(ref _persisted);

    /// <summary>Called for every answer, from many threads: cheap unless this 201 is taken as a sample.</summary>
    public void Offer(ReserveRequest request, ReserveResult result, long answeredAt)
    {
        if (result.Outcome != Outcome.Created || result.OrderNo is null)
        {
            return;
        }
        var next = Volatile.Read(ref _nextSampleAt);
        if (answeredAt < next || Interlocked.CompareExchange(ref _nextSampleAt, answeredAt + _spacing, next) != next)
        {
            return;
        }
        Interlocked.CompareExchange(ref _firstSampleAt, answeredAt, 0);
        Interlocked.Increment(ref _sampled);
        Interlocked.Increment(ref _pending);
        // Off the answering thread: that thread belongs to the load.
        _ = Task.Run(() => FollowAsync(request.BuyerId, result.OrderNo, answeredAt), CancellationToken.None);
    }

    /// <summary>
    /// Waits until every sample is persisted or past its deadline, printing progress once a second;
    /// bounded by --lag-timeout plus one read. <paramref name="runStart"/> places the samples on the run's time axis.
    /// </summary>
    public async Task<LagReport> FinishAsync(long runStart, TextWriter progress)
    {
        var lastPrint = Stopwatch.GetTimestamp();
        while (Pending > 0)
        {
            await Task.Delay(50, CancellationToken.None);
            if (Stopwatch.GetElapsedTime(lastPrint) >= TimeSpan.FromSeconds(1))
            {
                lastPrint = Stopwatch.GetTimestamp();
                progress.WriteLine(Invariant($"Lag probe: {Pending:N0} sampled orders not in MySQL yet, {Persisted:N0} of {Interlocked.Read(ref _sampled):N0} persisted."));
            }
        }
        if (Volatile.Read(ref _failure) is { } failure)
        {
            throw new InvalidOperationException("The lag probe failed: " + failure.Message, failure);
        }

        var first = Interlocked.Read(ref _firstSampleAt);
        var active = first == 0 ? 0 : Stopwatch.GetElapsedTime(first).TotalSeconds;
        var reads = Interlocked.Read(ref _reads);
        return new LagReport(
            _samplesPerSecond, _poll, _timeout,
            Interlocked.Read(ref _sampled), Persisted,
            Interlocked.Read(ref _timedOutInRedis), Interlocked.Read(ref _timedOutNotFound), Interlocked.Read(ref _timedOutReadFailing),
            reads, Interlocked.Read(ref _readFailures), active > 0 ? reads / active : 0,
            LatencySummary.Of(_fromAnswer), LatencySummary.Of(_fromCreatedAt), Interlocked.Read(ref _aheadOfCreatedAt),
            [.. _points.Select(p => new LagPoint((double)(p.AnsweredAt - runStart) / Stopwatch.Frequency, p.LagMs)).OrderBy(p => p.AnsweredAtSeconds)],
            [.. _timeoutExamples]);
    }

    private async Task FollowAsync(long buyerId, string orderNo, long answeredAt)
    {
        try
        {
            var deadline = answeredAt + (long)(_timeout.TotalSeconds * Stopwatch.Frequency);
            var last = OrderLookupStatus.NotFound;
            while (true)
            {
                OrderLookup lookup;
                await _readSlots.WaitAsync(CancellationToken.None);
                try
                {
                    lookup = await _client.GetOrderAsync(buyerId, orderNo, ReadTimeout, CancellationToken.None);
                }
                finally
                {
                    _readSlots.Release();
                }
                var seen = Stopwatch.GetTimestamp();
                var seenUtc = DateTime.UtcNow;
                Interlocked.Increment(ref _reads);

                if (lookup is { Status: OrderLookupStatus.Found, Order.Persisted: true })
                {
                    var micros = Micros(seen - answeredAt);
                    _fromAnswer.RecordValue(micros);
                    _points.Enqueue((answeredAt, micros / 1000.0));
                    // createdAt is the Redis server's clock: comparable with ours only on one machine (or with synchronised clocks).
                    var fromCreated = (seenUtc - lookup.Order.CreatedAt).Ticks / TimeSpan.TicksPerMicrosecond;
                    if (fromCreated >= 0)
                    {
                        _fromCreatedAt.RecordValue(Math.Min(fromCreated, LoadStats.HighestTrackableMicros));
                    }
                    else
                    {
                        Interlocked.Increment(ref _aheadOfCreatedAt);
                    }
                    Interlocked.Increment(ref _persisted);
                    return;
                }
                if (lookup.Status == OrderLookupStatus.Failed)
                {
                    Interlocked.Increment(ref _readFailures);
                }
                last = lookup.Status;

                if (seen >= deadline)
                {
                    if (last == OrderLookupStatus.Found)
                    {
                        Interlocked.Increment(ref _timedOutInRedis);
                    }
                    else if (last == OrderLookupStatus.NotFound)
                    {
                        Interlocked.Increment(ref _timedOutNotFound);
                    }
                    else
                    {
                        Interlocked.Increment(ref _timedOutReadFailing);
                    }
                    if (_timeoutExamples.Count < MaxTimeoutExamples)
                    {
                        _timeoutExamples.Enqueue(Invariant($"order {orderNo} of buyer {buyerId}: {(last == OrderLookupStatus.Found ? "persisted=false" : lookup.Detail)}"));
                    }
                    return;
                }
                await Task.Delay(_poll, CancellationToken.None);
            }
        }
        catch (Exception ex)
        {
            // GetOrderAsync turns every server or network failure into a status: this is a harness bug, surfaced at the end.
            Interlocked.CompareExchange(ref _failure, ex, null);
        }
        finally
        {
            Interlocked.Decrement(ref _pending);
        }
    }

    /// <summary>Only after <see cref="FinishAsync"/>: no sample is being followed then.</summary>
    public void Dispose() => _readSlots.Dispose();

    private static long Micros(long stopwatchTicks) => Math.Clamp(stopwatchTicks * 1_000_000 / Stopwatch.Frequency, 1, LoadStats.HighestTrackableMicros);

}
