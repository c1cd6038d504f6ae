using System.Diagnostics;
using FlashSale.LoadTests.EngineApi;

namespace FlashSale.LoadTests.Measurement;

/// <summary>What the engine held at one instant: the Ingress's resident memory, Redis's used_memory, and the 201s answered so far.</summary>
/// <param name="At">Load time of the sample: 0 before the first request, a window's end, the end of the load; null after the load (the drain).</param>
public sealed record ResourceSample(string Label, TimeSpan? At, long? IngressRssBytes, long? RedisUsedBytes, long Created);

/// <summary>
/// Samples the engine's memory at the start of the load, at every window boundary (--window) and at its end, to show
/// a trend a single end-of-run figure hides: an Ingress that grows minute after minute, Redis bytes per reservation.
/// One sample is a read of /proc and one <c>INFO memory</c>, off the request path; a failed read leaves the sample's
/// figure empty and its reason in <see cref="RedisProblem"/>, never a guessed number.
/// </summary>
public sealed class ResourceSampler(IngressProcess ingress, RedisServers redis, LoadStats stats, TimeSpan window)
{
    public const string StartLabel = "start";
    public const string EndLabel = "end of load";
    public const string DrainedLabel = "after the drain";

    private readonly List<ResourceSample> _samples = [];
    private readonly Lock _lock = new();

    public IngressProcess Ingress => ingress;

    public RedisServers Redis => redis;

    public TimeSpan Window => window;

    /// <summary>The first reason a Redis read failed; null when every read worked.</summary>
    public string? RedisProblem { get; private set; }

    public IReadOnlyList<ResourceSample> Samples
    {
        get
        {
            lock (_lock)
            {
                return [.. _samples];
            }
        }
    }

    public async Task<ResourceSample> SampleAsync(string label, TimeSpan? at)
    {
        long? used = null;
        try
        {
            used = await redis.UsedMemoryAsync(CancellationToken.None);
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or InvalidDataException or OperationCanceledException or FormatException)
        {
            RedisProblem ??= $"INFO memory from {redis} failed: {ex.Message}";
        }
        var sample = new ResourceSample(label, at, ingress.ResidentBytes(), used, stats.Count(Outcome.Created));
        lock (_lock)
        {
            _samples.Add(sample);
        }
        return sample;
    }

    /// <summary>
    /// During one wave (started at <paramref name="waveStartTimestamp"/>, <paramref name="offset"/> into the load, lasting
    /// <paramref name="length"/>), samples every window boundary strictly inside it; the load's end is the caller's to sample,
    /// once the last answers are in.
    /// </summary>
    public async Task RunAsync(long waveStartTimestamp, TimeSpan offset, TimeSpan length, CancellationToken stop)
    {
        for (var boundary = window * (Math.Floor(offset / window) + 1); boundary < offset + length; boundary += window)
        {
            var due = waveStartTimestamp + (long)((boundary - offset).TotalSeconds * Stopwatch.Frequency);
            var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
            try
            {
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, stop);
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            await SampleAsync(Invariant($"window {(int)Math.Round(boundary / window)} end"), boundary);
        }
    }
}
