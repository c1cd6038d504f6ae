using System.Diagnostics;

namespace FlashSale.Engine.Backpressure;

/// <summary>
/// What the producers of this process (the durable acknowledgement and the relay) saw of Kafka: how long each confirmed
/// record took from its produce to its delivery report, gathered per check interval, and the mean size of the records
/// (to turn a consumer lag in records into bytes). Recording is lock-free: it sits on librdkafka's delivery thread.
/// </summary>
public sealed class DeliveryStats
{
    /// <summary>
    /// The size assumed before any record was produced here: a batch of about six orders (an order is 110-170 bytes of
    /// JSON). A full batch of 64 would be safer for a lag made of full batches only, but it turns the ordinary lag of a
    /// healthy Persister at start-up (records of one or two orders, committed every 500 ms) into a false busy. The mean
    /// follows the real records within a few dozen deliveries.
    /// </summary>
    public const double InitialRecordBytes = 1_024;

    private long _count;
    private long _sumTicks;
    private double _meanRecordBytes = InitialRecordBytes;

    /// <summary>Mean size of the record values produced here, weighted towards the latest (about the last twenty records).</summary>
    public double MeanRecordBytes => Volatile.Read(ref _meanRecordBytes);

    /// <summary>
    /// Kafka confirmed a record of <paramref name="bytes"/> produced at <paramref name="producedAt"/> (a Stopwatch
    /// timestamp), or the producer gave up on it (<paramref name="delivered"/> false): a record that never got through
    /// took at least that long, so it counts in the latency too.
    /// </summary>
    public void Completed(long producedAt, int bytes, bool delivered = true)
    {
        var ticks = Stopwatch.GetTimestamp() - producedAt;
        Interlocked.Increment(ref _count);
        Interlocked.Add(ref _sumTicks, ticks);
        if (!delivered)
        {
            return;
        }
        // A lost update between two delivery threads only skips one sample of a moving average.
        var mean = Volatile.Read(ref _meanRecordBytes);
        Volatile.Write(ref _meanRecordBytes, mean + ((bytes - mean) * 0.05));
    }

    /// <summary>The deliveries since the last call: how many and their mean latency (0 when none).</summary>
    public (long Count, TimeSpan Mean) TakeWindow()
    {
        var count = Interlocked.Exchange(ref _count, 0);
        var sum = Interlocked.Exchange(ref _sumTicks, 0);
        return count == 0 ? (0, TimeSpan.Zero) : (count, Stopwatch.GetElapsedTime(0, sum / count));
    }
}
