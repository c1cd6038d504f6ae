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
    private readonly Histogram<double> _recoveryDuration;
    private readonly Counter<long> _totals;

    // -1 until the first run: the gauge reports nothing rather than a made-up zero.
    private long _lastRunDrift = -1;

    // -1 while this process does not hold the reconciler's lease: only the leaseholder looks.
    private long _fencedSkus = -1;

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
        _recoveryDuration = meter.CreateHistogram("flashsale.reconciler.recovery.duration", "ms",
            "Time from recovery first finding a SKU fenced to the SKU on sale again.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = RunBuckets });
        _totals = meter.CreateCounter<long>("flashsale.reconciler.totals", "{check}",
            "The loop's checks of a SKU by where its MySQL totals came from: exact (its orders counted), unchanged (neither side moved since), running-counters (the SKU was selling).");
        meter.CreateObservableGauge("flashsale.reconciler.fenced_skus", ObserveFenced, "{sku}",
            "Live SKUs fenced right now (deciding nothing until recovery rebuilds them), as the reconciler's leaseholder last saw them.");
    }

    public void Fenced(long skus) => Volatile.Write(ref _fencedSkus, skus);

    public void Recovered(TimeSpan elapsed) => _recoveryDuration.Record(elapsed.TotalMilliseconds);

    private IEnumerable<Measurement<long>> ObserveFenced()
    {
        var fenced = Volatile.Read(ref _fencedSkus);
        if (fenced >= 0)
        {
            yield return new Measurement<long>(fenced);
        }
    }

    public void DriftFound(string kind, long units) => _drift.Add(units, EngineTelemetry.Tag("kind", kind));

    public void Totals(string source) => _totals.Add(1, EngineTelemetry.Tag("source", source));

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
