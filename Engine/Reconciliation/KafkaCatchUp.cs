using Confluent.Kafka;
using FlashSale.Engine.Kafka;
using FlashSale.Engine.Persistence;
using Microsoft.Extensions.Options;

namespace FlashSale.Engine.Reconciliation;

/// <summary>
/// Tells when the Persisters have written everything the reservations topic held at a given moment: the consumer
/// group's committed offsets (stored only once a batch is durable in MySQL) have reached the end offsets read then.
/// A client of the group that never subscribes, so it only reads offsets and never takes partitions from a Persister.
/// </summary>
public sealed class KafkaCatchUp(IOptions<KafkaOptions> kafka, IOptions<PersistenceOptions> persistence, TimeProvider time) : IDisposable
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    private readonly Lock _lock = new();
    private IConsumer<Ignore, Ignore>? _reader;

    /// <summary>Reads the end of every partition of the topic now.</summary>
    public Task<IReadOnlyList<TopicPartitionOffset>> EndsAsync(CancellationToken cancellationToken) => Task.Run(() =>
    {
        var reader = Reader();
        return (IReadOnlyList<TopicPartitionOffset>)[.. Partitions(reader).Select(partition =>
            new TopicPartitionOffset(partition, reader.QueryWatermarkOffsets(partition, RequestTimeout).High))];
    }, cancellationToken);

    /// <summary>
    /// Messages in the topic the Persisters' group has not committed yet, over every partition: the Kafka → MySQL backlog of the
    /// whole deployment, however many Persisters share the partitions. A partition the group never committed counts from its start.
    /// </summary>
    public Task<long> LagAsync(CancellationToken cancellationToken) => Task.Run(() =>
    {
        var reader = Reader();
        var partitions = Partitions(reader);
        var committed = reader.Committed(partitions, RequestTimeout).ToDictionary(c => c.TopicPartition, c => c.Offset);
        long lag = 0;
        foreach (var partition in partitions)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var marks = reader.QueryWatermarkOffsets(partition, RequestTimeout);
            var from = committed.TryGetValue(partition, out var offset) && offset.Value >= 0 ? offset.Value : marks.Low.Value;
            lag += Math.Max(0, marks.High.Value - from);
        }
        return lag;
    }, cancellationToken);

    /// <summary>Every partition of the reservations topic, from the cluster's metadata.</summary>
    private List<TopicPartition> Partitions(IConsumer<Ignore, Ignore> reader)
    {
        using var admin = new DependentAdminClientBuilder(reader.Handle).Build();
        var topic = kafka.Value.ReservationsTopic;
        var metadata = admin.GetMetadata(topic, RequestTimeout).Topics.Single(t => t.Topic == topic);
        if (metadata.Error.IsError)
        {
            throw new KafkaException(metadata.Error);
        }
        return [.. metadata.Partitions.Select(p => new TopicPartition(topic, p.PartitionId))];
    }

    /// <summary>Waits until the group has committed at least <paramref name="ends"/> on every partition.</summary>
    /// <exception cref="TimeoutException">Not caught up within <paramref name="timeout"/>.</exception>
    public async Task WaitCommittedAsync(IReadOnlyList<TopicPartitionOffset> ends, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + timeout;
        var pending = ends.Where(e => e.Offset.Value > 0).ToDictionary(e => e.TopicPartition, e => e.Offset.Value);
        while (pending.Count > 0)
        {
            var committed = await Task.Run(() => Reader().Committed(pending.Keys, RequestTimeout), cancellationToken);
            foreach (var offset in committed.Where(c => c.Offset.Value >= pending[c.TopicPartition]))
            {
                pending.Remove(offset.TopicPartition);
            }
            if (pending.Count == 0)
            {
                return;
            }
            if (time.GetUtcNow() > deadline)
            {
                throw new TimeoutException(
                    $"The Persisters have not consumed the reservations topic up to where it ended within {timeout.TotalSeconds} s ({pending.Count} partition(s) behind).");
            }
            await Task.Delay(TimeSpan.FromMilliseconds(100), time, cancellationToken);
        }
    }

    private IConsumer<Ignore, Ignore> Reader()
    {
        lock (_lock)
        {
            if (_reader is null)
            {
                var config = kafka.Value.ConsumerConfig(persistence.Value.ConsumerGroup);
                config.EnableAutoCommit = false;
                _reader = new ConsumerBuilder<Ignore, Ignore>(config).Build();
            }
            return _reader;
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _reader?.Dispose();
            _reader = null;
        }
    }
}
