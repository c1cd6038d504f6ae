using System.Diagnostics.Metrics;
using FlashSale.Engine.Live;
using FlashSale.Engine.Telemetry;
using Microsoft.Extensions.DependencyInjection;

namespace FlashSale.Tests.Unit;

public sealed class LiveViewTests
{
    [Fact]
    public void AnOutcomeRecordedInTheReservationsCounterIsCountedWithoutBeingNamedAnywhere()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meters = services.GetRequiredService<IMeterFactory>();
        using var counters = new LiveCounters(meters);
        var meter = meters.Create(EngineTelemetry.Name);
        // Another host's meter in the same process: not this host's reservations.
        using var other = new Meter(EngineTelemetry.Name);
        other.CreateCounter<long>(LiveCounters.ReservationsInstrument).Add(5, new KeyValuePair<string, object?>("outcome", "created"));
        var reservations = meter.CreateCounter<long>(LiveCounters.ReservationsInstrument);
        reservations.Add(1, new KeyValuePair<string, object?>("outcome", "created"));
        reservations.Add(1, new KeyValuePair<string, object?>("outcome", "created"));
        // An outcome a later change adds (rate limiting) needs nothing of the console.
        reservations.Add(3, new KeyValuePair<string, object?>("outcome", "rate-limited"));

        var taken = counters.Take().ToDictionary(c => c.Key, c => c.Value);

        Assert.Equal(2, taken["o:created"]);
        Assert.Equal(3, taken["o:rate-limited"]);
        // Taken means zero again: the next second starts from nothing.
        Assert.Empty(counters.Take());
    }

    [Fact]
    public void RequestsRefusedBeforeTheEngineAreOutcomesOfTheirOwn()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meters = services.GetRequiredService<IMeterFactory>();
        using var counters = new LiveCounters(meters);
        var meter = meters.Create(EngineTelemetry.Name);
        meter.CreateCounter<long>(LiveCounters.RateLimitRefusedInstrument).Add(4, new KeyValuePair<string, object?>("limit", "buyer"));
        meter.CreateCounter<long>(LiveCounters.AdmissionRefusedInstrument).Add(2, new KeyValuePair<string, object?>("reason", "missing"));

        var taken = counters.Take().ToDictionary(c => c.Key, c => c.Value);

        Assert.Equal(4, taken["o:rate-limited"]);
        Assert.Equal(2, taken["o:admission-required"]);
    }

    [Fact]
    public void ReservationLatencyIsBucketedFromTheRequestDurationOfTheReservationRouteOnly()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meters = services.GetRequiredService<IMeterFactory>();
        using var counters = new LiveCounters(meters);
        var meter = meters.Create(LiveCounters.RequestDurationMeter);
        var duration = meter.CreateHistogram<double>(LiveCounters.RequestDurationInstrument, "s");
        duration.Record(0.004, new KeyValuePair<string, object?>("http.route", FlashSale.Contracts.ApiRoutes.Reservations + "/"));
        duration.Record(0.9, new KeyValuePair<string, object?>("http.route", FlashSale.Contracts.ApiRoutes.Order));

        var taken = Assert.Single(counters.Take());

        Assert.Equal(LiveFields.Latency(LatencyBuckets.IndexOf(4)), taken.Key);
        Assert.Equal(1, taken.Value);
    }

    [Fact]
    public void QuantilesComeFromTheSummedBucketsAndNoneWithoutSamples()
    {
        var counts = new long[LatencyBuckets.Count];
        Assert.Null(LatencyBuckets.Quantile(counts, 0.5));

        // 98 fast requests (in the 1-1.5 ms bucket), 2 slow ones (in the 200-300 ms bucket).
        counts[LatencyBuckets.IndexOf(1.2)] = 98;
        counts[LatencyBuckets.IndexOf(250)] = 2;

        var p50 = LatencyBuckets.Quantile(counts, 0.5)!.Value;
        var p99 = LatencyBuckets.Quantile(counts, 0.99)!.Value;
        Assert.InRange(p50, 1, 1.5);
        Assert.InRange(p99, 200, 300);
        // Slower than the last bound: its lower bound, never a made-up figure.
        var slow = new long[LatencyBuckets.Count];
        slow[^1] = 1;
        Assert.Equal(LatencyBuckets.UpperBoundsMs[^1], LatencyBuckets.Quantile(slow, 0.99));
    }

    [Theory]
    [InlineData(0, 50)]
    [InlineData(10, 40)]
    [InlineData(49, 1)]
    [InlineData(50, 1000)]
    [InlineData(700, 350)]
    public void PublisherWakesJustPastEachSecondsBoundary(int intoSecondMs, int expectedWaitMs)
    {
        var now = DateTimeOffset.FromUnixTimeMilliseconds(1_796_000_000_000 + intoSecondMs);
        Assert.Equal(TimeSpan.FromMilliseconds(expectedWaitMs), LivePublisher.UntilNext(now, LivePublisher.PublishOffset));
    }
}
