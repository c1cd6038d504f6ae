using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using FlashSale.Engine.Telemetry;

namespace FlashSale.Engine.Live;

/// <summary>
/// This process's reservations by outcome and their latency since the last <see cref="Take"/>, listened to from the metrics
/// the Ingress records anyway: the <c>outcome</c> tag of <c>flashsale.reservations</c> (so an outcome added there later shows
/// up here by itself) and ASP.NET Core's <c>http.server.request.duration</c> of the reservation route. Only this host's meters
/// (those of its <see cref="IMeterFactory"/>) are heard, so hosts sharing a process (tests) do not count each other's requests. A listener callback is a
/// dictionary lookup and an interlocked add per request; nothing is allocated once every outcome has been seen.
/// </summary>
public sealed class LiveCounters : IDisposable
{
    public const string ReservationsInstrument = "flashsale.reservations";
    public const string RateLimitRefusedInstrument = "flashsale.rate_limit.refused";
    public const string AdmissionRefusedInstrument = "flashsale.admission.refused";
    public const string RequestDurationMeter = "Microsoft.AspNetCore.Hosting";
    public const string RequestDurationInstrument = "http.server.request.duration";

    /// <summary>
    /// Requests refused before the engine decides (they are not in <see cref="ReservationsInstrument"/>), counted as
    /// outcomes of their own: the instrument's name and the outcome the console shows.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> RefusalInstruments = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [RateLimitRefusedInstrument] = "rate-limited",
        [AdmissionRefusedInstrument] = "admission-required",
    };

    private readonly ConcurrentDictionary<string, StrongBox<long>> _outcomes = new(StringComparer.Ordinal);
    private readonly long[] _latency = new long[LatencyBuckets.Count];
    private readonly MeterListener _listener = new();

    public LiveCounters(IMeterFactory meterFactory)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, meterFactory)
                && ((instrument.Meter.Name == EngineTelemetry.Name
                        && (instrument.Name == ReservationsInstrument || RefusalInstruments.ContainsKey(instrument.Name)))
                    || (instrument.Meter.Name == RequestDurationMeter && instrument.Name == RequestDurationInstrument)))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>(OnCount);
        _listener.SetMeasurementEventCallback<double>(OnDuration);
        _listener.Start();
    }

    /// <summary>The counts since the last call, and zero from now on: outcomes as <c>o:&lt;outcome&gt;</c>, latency buckets as <c>l:&lt;index&gt;</c>.</summary>
    public List<KeyValuePair<string, long>> Take()
    {
        var counts = new List<KeyValuePair<string, long>>();
        foreach (var (outcome, box) in _outcomes)
        {
            if (Interlocked.Exchange(ref box.Value, 0) is var count and not 0)
            {
                counts.Add(new(LiveFields.Outcome(outcome), count));
            }
        }
        for (var i = 0; i < _latency.Length; i++)
        {
            if (Interlocked.Exchange(ref _latency[i], 0) is var count and not 0)
            {
                counts.Add(new(LiveFields.Latency(i), count));
            }
        }
        return counts;
    }

    private void OnCount(Instrument instrument, long measurement, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        if (RefusalInstruments.TryGetValue(instrument.Name, out var refusal))
        {
            Add(refusal, measurement);
            return;
        }
        foreach (var tag in tags)
        {
            if (tag.Key == "outcome" && tag.Value is string outcome)
            {
                Add(outcome, measurement);
                return;
            }
        }
    }

    private void Add(string outcome, long count)
    {
        var box = _outcomes.GetOrAdd(outcome, static _ => new StrongBox<long>());
        Interlocked.Add(ref box.Value, count);
    }

    private void OnDuration(Instrument instrument, double seconds, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == "http.route" && tag.Value is string route)
            {
                if (route.AsSpan().TrimEnd('/').SequenceEqual(ApiRoutes.Reservations))
                {
                    Interlocked.Increment(ref _latency[LatencyBuckets.IndexOf(seconds * 1_000)]);
                }
                return;
            }
        }
    }

    public void Dispose() => _listener.Dispose();
}

/// <summary>The fields of a live second's hash (<see cref="Redis.RedisKeyspace.LiveSecond"/>).</summary>
public static class LiveFields
{
    public const string OutcomePrefix = "o:";
    public const string LatencyPrefix = "l:";

    /// <summary>Ingress processes that added to the second.</summary>
    public const string Reporting = "n";

    public static string Outcome(string outcome) => OutcomePrefix + outcome;

    public static string Latency(int bucket) => LatencyPrefix + bucket.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
