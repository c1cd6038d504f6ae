using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using FlashSale.Engine.Telemetry;

namespace FlashSale.Engine.Persistence;

/// <summary>The Persister's batches, rows, visibility lag and consumer lag.</summary>
public sealed class PersistenceMetrics
{
    private static readonly double[] LagBuckets = [5, 10, 25, 50, 100, 250, 500, 750, 1_000, 1_500, 2_500, 5_000, 10_000, 30_000, 60_000];

    private static readonly double[] WriteBuckets = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000];

    private static readonly long[] BatchSizeBuckets = [1, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000];

    private static readonly KeyValuePair<string, object?> Inserted = EngineTelemetry.Tag("result", "inserted");
    private static readonly KeyValuePair<string, object?> Duplicate = EngineTelemetry.Tag("result", "duplicate");

    private readonly TimeProvider _time;
    private readonly Histogram<long> _batchSize;
    private readonly Histogram<double> _batchDuration;
    private readonly Counter<long> _rows;
    private readonly Histogram<double> _visibilityLag;

    // Written by the consumer thread, read by the gauge callback at scrape time.
    private readonly ConcurrentDictionary<int, long> _consumerLag = new();

    public PersistenceMetrics(IMeterFactory meterFactory, TimeProvider time)
    {
        _time = time;
        var meter = meterFactory.Meter();
        _batchSize = meter.CreateHistogram("flashsale.persister.batch.size", "{event}",
            "Events per batch written to the order shards.",
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = BatchSizeBuckets });
        _batchDuration = meter.CreateHistogram("flashsale.persister.batch.duration", "ms",
            "Time to write one batch into every shard it touches, until the last shard committed.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = WriteBuckets });
        _rows = meter.CreateCounter<long>("flashsale.persister.rows", "{row}",
            "Order rows of written batches: inserted, or a duplicate absorbed by the unique order number.");
        _visibilityLag = meter.CreateHistogram("flashsale.persister.visibility.lag", "ms",
            "From a reservation's createdAt (Redis time) to its order row committed in MySQL.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LagBuckets });
        meter.CreateObservableGauge("flashsale.persister.consumer.lag", ObserveConsumerLag, "{message}",
            "Per partition this Persister holds: the high watermark minus the offset it stored once the batch was durable.");
    }

    public void BatchWritten(int events, TimeSpan elapsed)
    {
        _batchSize.Record(events);
        _batchDuration.Record(elapsed.TotalMilliseconds);
    }

    public void RowsWritten(int inserted, int duplicates)
    {
        if (inserted > 0)
        {
            _rows.Add(inserted, Inserted);
        }
        if (duplicates > 0)
        {
            _rows.Add(duplicates, Duplicate);
        }
    }

    public void OrderVisible(long createdAtMs) => _visibilityLag.Record(_time.SinceMs(createdAtMs));

    /// <summary>The consumer's latest view of one partition it holds.</summary>
    public void ConsumerLag(int partition, long messages) => _consumerLag[partition] = messages;

    /// <summary>The partition left this consumer (rebalance, shutdown): its lag is someone else's now.</summary>
    public void ConsumerPartitionGone(int partition) => _consumerLag.TryRemove(partition, out _);

    private IEnumerable<Measurement<long>> ObserveConsumerLag()
    {
        foreach (var (partition, lag) in _consumerLag)
        {
            yield return new Measurement<long>(lag, EngineTelemetry.Tag("partition", partition));
        }
    }
}
