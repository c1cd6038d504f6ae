using Confluent.Kafka;
using FlashSale.Engine.Kafka;
using FlashSale.Engine.Persistence;
using Microsoft.Extensions.Options;

namespace FlashSale.Engine.Backpressure;

/// <summary>The Persisters' consumer group on the reservations topic, measured from outside: records not yet committed.</summary>
/// <param name="MaxPartitionLag">Records behind on the partition furthest behind.</param>
/// <param name="TotalLag">Records behind on every partition together.</param>
/// <param name="Lost">Partitions whose committed offset lies below the low watermark: records dropped before the group read them.</param>
public sealed record ConsumerLag(long MaxPartitionLag, long TotalLag, int Partitions, int Lost);

/// <summary>
/// Reads the Persisters' committed offsets and the topic's end offsets, as <see cref="Reconciliation.KafkaCatchUp"/>
/// does: a client of the group that never subscribes, so it never takes a partition from a Persister. Measured from
/// here, a Persister that stopped (or died) shows as a lag that grows, which its own metrics cannot show.
/// Blocking calls: run it off the thread pool's hot path (the monitor's own loop).
/// </summary>
public sealed class ConsumerLagProbe(IOptions<KafkaOptions> kafka, IOptions<PersistenceOptions> persistence) : IDisposable
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(5);

    private readonly Lock _lock = new();
    private IConsumer<Ignore, Ignore>? _reader;
    private IAdminClient? _admin;

    public ConsumerLag Measure()
    {
        lock (_lock)
        {
            if (_reader is null)
            {
                var config = kafka.Value.ConsumerConfig(persistence.Value.ConsumerGroup);
                config.EnableAutoCommit = false;
                _reader = new ConsumerBuilder<Ignore, Ignore>(config).Build();
                _admin = new DependentAdminClientBuilder(_reader.Handle).Build();
            }
            var topic = kafka.Value.ReservationsTopic;
            var metadata = _admin!.GetMetadata(topic, RequestTimeout).Topics.Single(t => t.Topic == topic);
            if (metadata.Error.IsError)
            {
                throw new KafkaException(metadata.Error);
            }
            var partitions = metadata.Partitions.Select(p => new TopicPartition(topic, p.PartitionId)).ToList();
            var committed = _reader.Committed(partitions, RequestTimeout).ToDictionary(c => c.TopicPartition, c => c.Offset);
            long max = 0, total = 0;
            var lost = 0;
            foreach (var partition in partitions)
            {
                var marks = _reader.QueryWatermarkOffsets(partition, RequestTimeout);
                // A group that never committed on a partition starts at its beginning (auto.offset.reset = earliest).
                var at = committed.TryGetValue(partition, out var offset) && !offset.IsSpecial ? offset.Value : marks.Low.Value;
                if (at < marks.Low.Value)
                {
                    lost++;
                }
                var lag = Math.Max(0, marks.High.Value - at);
                max = Math.Max(max, lag);
                total += lag;
            }
            return new ConsumerLag(max, total, partitions.Count, lost);
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _admin?.Dispose();
            _reader?.Dispose();
            _admin = null;
            _reader = null;
        }
    }
}
