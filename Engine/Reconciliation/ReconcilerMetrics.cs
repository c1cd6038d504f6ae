using System.Diagnostics.Metrics;
using FlashSale.Engine.Telemetry;

namespace FlashSale.Engine.Reconciliation;

/// <summary>Drift the reconciler found, repairs it made, and how long its runs take.</summary>
public sealed class ReconcilerMetrics
{
    private static readonly double[] RunBuckets = [10, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 300_000];

    private readonly Counter<long> _drift;
    private readonly Counter<long> _repairs;
    private readonly Histogram<double> _runDuration;

    // -1 until the first run: the gauge reports nothing rather than a made-up zero.
    private long _lastRunDrift = -1;

    public ReconcilerMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Meter();
        _drift = meter.CreateCounter<long>("flashsale.reconciler.drift", "{unit}",
            "Units of drift between Redis and MySQL the reconciler found, by kind.");
        _repairs = meter.CreateCounter<long>("flashsale.reconciler.repairs", "{repair}",
            "Repairs the reconciler made, by kind.");
        _runDuration = meter.CreateHistogram("flashsale.reconciler.run.duration", "ms",
            "Duration of one reconciler run.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = RunBuckets });
        meter.CreateObservableGauge("flashsale.reconciler.drift.current", ObserveLastDrift, "{unit}",
            "Units of drift the last reconciler run found.");
    }

    public void DriftFound(string kind, long units) => _drift.Add(units, EngineTelemetry.Tag("kind", kind));

    public void Repaired(string kind, long count) => _repairs.Add(count, EngineTelemetry.Tag("kind", kind));

    public void Run(TimeSpan elapsed, long driftUnits)
    {
        _runDuration.Record(elapsed.TotalMilliseconds);
        Volatile.Write(ref _lastRunDrift, driftUnits);
    }

    private IEnumerable<Measurement<long>> ObserveLastDrift()
    {
        var drift = Volatile.Read(ref _lastRunDrift);
        if (drift >= 0)
        {
            yield return new Measurement<long>(drift);
        }
    }
}
