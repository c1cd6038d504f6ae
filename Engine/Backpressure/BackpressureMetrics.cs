using System.Diagnostics.Metrics;
using FlashSale.Engine.Telemetry;

namespace FlashSale.Engine.Backpressure;

/// <summary>The backpressure triggers' values and states, observed at each scrape from the monitor.</summary>
internal static class BackpressureMetrics
{
    public static void Register(IMeterFactory meterFactory, BackpressureMonitor monitor)
    {
        var meter = meterFactory.Meter();
        meter.CreateObservableGauge("flashsale.backpressure.active", () => monitor.Triggers.Select(t =>
            new Measurement<int>(t.Active ? 1 : 0, EngineTelemetry.Tag("trigger", t.Name))), "{trigger}",
            "1 while the trigger holds new reservations back (503 busy), 0 otherwise; one series per trigger.");
        meter.CreateObservableGauge("flashsale.backpressure.delivery_latency", () => Observe(monitor.Latency), "ms",
            "Kafka delivery latency as the backpressure sees it: the mean produce-to-confirmation time over the last interval, or the oldest unconfirmed record's age if longer.");
        meter.CreateObservableGauge("flashsale.backpressure.outbox_backlog", () => Observe(monitor.Backlog), "{entry}",
            "Entries in the outbox streams of every live SKU (records Kafka has not confirmed).");
        meter.CreateObservableGauge<long>("flashsale.backpressure.consumer_lag", () => monitor.LastConsumerLag is { } lag
            ? [new Measurement<long>(lag.MaxPartitionLag)] : [], "{record}",
            "The Persisters' consumer lag on the partition furthest behind, read from Kafka (committed vs end offsets).");
        meter.CreateObservableGauge("flashsale.backpressure.consumer_lag.size", () => Observe(monitor.Lag), "By",
            "The consumer lag of the partition furthest behind in bytes: its records times the mean record size this Ingress produced.");
        meter.CreateObservableGauge("flashsale.backpressure.threshold", () => monitor.Triggers.Where(t => t.Threshold > 0).Select(t =>
            new Measurement<double>(t.Threshold, EngineTelemetry.Tag("trigger", t.Name))), null,
            "Each enabled trigger's threshold, in its own unit (ms, entries, bytes).");
    }

    private static IEnumerable<Measurement<double>> Observe(BackpressureTrigger trigger)
        => trigger.Value is { } value ? [new Measurement<double>(value)] : [];
}
