using System.Diagnostics.Metrics;
using FlashSale.Engine.Telemetry;

namespace FlashSale.Engine.Relay;

/// <summary>
/// What the outbox relay delivered to Kafka, how late, and what it had to take up again; and the Ingress's durable
/// acknowledgements: how long a reservation waited for Kafka, and how many did not get there in time.
/// </summary>
public sealed class RelayMetrics
{
    private static readonly double[] LagBuckets = [5, 10, 25, 50, 100, 250, 500, 750, 1_000, 1_500, 2_500, 5_000, 10_000, 30_000, 60_000];
    private static readonly double[] AckBuckets = [1, 2, 3, 5, 7.5, 10, 15, 20, 25, 35, 50, 75, 100, 250, 500, 1_000, 2_000, 5_000];

    private static readonly KeyValuePair<string, object?> Claimed = EngineTelemetry.Tag("source", "claimed");
    private static readonly KeyValuePair<string, object?> Restart = EngineTelemetry.Tag("source", "restart");

    private readonly TimeProvider _time;
    private readonly Counter<long> _delivered;
    private readonly Histogram<double> _lag;
    private readonly Counter<long> _reclaimed;
    private readonly Counter<long> _safetyNet;
    private readonly Histogram<double> _ackDuration;
    private readonly Counter<long> _ackTimeouts;
    private readonly Counter<long> _ackFailures;

    public RelayMetrics(IMeterFactory meterFactory, TimeProvider time)
    {
        _time = time;
        var meter = meterFactory.Meter();
        _delivered = meter.CreateCounter<long>("flashsale.relay.delivered", "{event}",
            "Reservation events whose record Kafka confirmed with an offset (a batch's record counts each of its events).");
        _lag = meter.CreateHistogram("flashsale.relay.lag", "ms",
            "From a record's decision (Redis time) to Kafka confirming it; one value per record, a batch's or a single event's.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LagBuckets });
        _reclaimed = meter.CreateCounter<long>("flashsale.relay.reclaimed", "{entry}",
            "Outbox entries taken up again after they were left pending: claimed from an idle relay, or this relay's own at start.");
        _safetyNet = meter.CreateCounter<long>("flashsale.relay.safety_net", "{entry}",
            "Outbox entries the relay sent because their Ingress had not settled them within Relay:SafetyNetAgeMs (it died, or its produce failed).");
        _ackDuration = meter.CreateHistogram("flashsale.relay.ack.duration", "ms",
            "From the Ingress producing a reservation's event (or joining its produce) to Kafka confirming it: what durable acknowledgement adds to a 201.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = AckBuckets });
        _ackTimeouts = meter.CreateCounter<long>("flashsale.relay.ack.timeouts", "{reservation}",
            "Reservations whose event Kafka did not confirm within Reservations:DurableAckTimeoutMs: answered 503, the reservation stands.");
        _ackFailures = meter.CreateCounter<long>("flashsale.relay.ack.failures", "{reservation}",
            "Reservations whose event the producer refused or gave up on before the deadline: answered 503, left to the relay or a retry.");
    }

    public void SafetyNet() => _safetyNet.Add(1);

    public void AckDurable(TimeSpan waited) => _ackDuration.Record(waited.TotalMilliseconds);

    public void AckTimedOut() => _ackTimeouts.Add(1);

    public void AckFailed() => _ackFailures.Add(1);

    /// <summary>Kafka confirmed a record carrying <paramref name="events"/> reservation events decided at <paramref name="createdAtMs"/>.</summary>
    public void Delivered(int events, long createdAtMs)
    {
        _delivered.Add(events);
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
