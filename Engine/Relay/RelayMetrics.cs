using System.Diagnostics.Metrics;
using FlashSale.Engine.Telemetry;

namespace FlashSale.Engine.Relay;

/// <summary>What the outbox relay delivered to Kafka, how late, and what it had to take up again.</summary>
public sealed class RelayMetrics
{
    private static readonly double[] LagBuckets = [5, 10, 25, 50, 100, 250, 500, 750, 1_000, 1_500, 2_500, 5_000, 10_000, 30_000, 60_000];

    private static readonly KeyValuePair<string, object?> Claimed = EngineTelemetry.Tag("source", "claimed");
    private static readonly KeyValuePair<string, object?> Restart = EngineTelemetry.Tag("source", "restart");

    private readonly TimeProvider _time;
    private readonly Counter<long> _delivered;
    private readonly Histogram<double> _lag;
    private readonly Counter<long> _reclaimed;

    public RelayMetrics(IMeterFactory meterFactory, TimeProvider time)
    {
        _time = time;
        var meter = meterFactory.Meter();
        _delivered = meter.CreateCounter<long>("flashsale.relay.delivered", "{event}",
            "Outbox events whose delivery Kafka confirmed with an offset.");
        _lag = meter.CreateHistogram("flashsale.relay.lag", "ms",
            "From a reservation's createdAt (Redis time) to Kafka confirming its event.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LagBuckets });
        _reclaimed = meter.CreateCounter<long>("flashsale.relay.reclaimed", "{entry}",
            "Outbox entries taken up again after they were left pending: claimed from an idle relay, or this relay's own at start.");
    }

    public void Delivered(long createdAtMs)
    {
        _delivered.Add(1);
        _lag.Record(_time.SinceMs(createdAtMs));
    }

    public void Reclaimed(int entries, bool ownAtStart)
    {
        if (entries > 0)
        {
            _reclaimed.Add(entries, ownAtStart ? Restart : Claimed);
        }
    }
}
