using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace FlashSale.KafkaMock;

/// <summary>A topic whose records go once <see cref="Group"/> has committed past them.</summary>
internal sealed record TrimSpec(string Group, string Topic)
{
    public override string ToString() => $"{Group}@{Topic}";
}

/// <summary>
/// Retention by consumption, for the mock only. librdkafka's mock finds a fetch's position by walking the
/// partition's log from its start (it has no offset index, and answers one record batch per partition per fetch),
/// and it keeps up to 5 MB or 100,000 batches per partition. A long-lived dev mock under load therefore spends more
/// CPU on every fetch the longer it runs, until it saturates its one thread and delays every produce with it: a
/// five-minute soak's p99 grew minute by minute with it. Every interval this deletes, per listed topic, the records
/// its consumer group has committed past, so a fetch walks only what is not consumed yet, as a broker with an
/// index would. A record the group has not committed is never deleted: a stopped Persister loses nothing.
/// </summary>
internal sealed partial class ConsumedTrimmer(MockCluster cluster, IReadOnlyList<TrimSpec> specs, TimeSpan interval, ILogger<ConsumedTrimmer> logger)
{
    private static readonly TimeSpan CommittedTimeout = TimeSpan.FromSeconds(5);

    private readonly Dictionary<(string Topic, int Partition), long> _trimmedTo = [];

    /// <summary>Trims every interval until <paramref name="stopping"/>; returns at once when there is nothing to trim.</summary>
    public Task RunAsync(CancellationToken stopping)
    {
        if (specs.Count == 0)
        {
            return Task.CompletedTask;
        }
        LogTrimming(logger, string.Join(", ", specs), (long)interval.TotalMilliseconds);
        // Committed() blocks for a round trip to the group's coordinator: a thread of its own, not the pool's.
        return Task.Factory.StartNew(() => Loop(stopping), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    private void Loop(CancellationToken stopping)
    {
        var consumers = specs.Select(spec => (Spec: spec, Consumer: NewConsumer(spec.Group))).ToList();
        try
        {
            while (!stopping.WaitHandle.WaitOne(interval))
            {
                foreach (var (spec, consumer) in consumers)
                {
                    TrimOnce(spec, consumer);
                }
            }
        }
        finally
        {
            foreach (var (_, consumer) in consumers)
            {
                consumer.Dispose();
            }
        }
    }

    private void TrimOnce(TrimSpec spec, IConsumer<Ignore, Ignore> consumer)
    {
        if (cluster.State().Topics.FirstOrDefault(t => t.Name == spec.Topic) is not { } topic)
        {
            return;
        }
        List<TopicPartitionOffset> committed;
        try
        {
            committed = consumer.Committed(
                Enumerable.Range(0, topic.Partitions).Select(p => new TopicPartition(spec.Topic, p)), CommittedTimeout);
        }
        catch (KafkaException ex)
        {
            // Brokers set down by a fault test, a coordinator moving: the next interval asks again.
            LogCommittedUnknown(logger, spec.ToString(), ex.Error.Reason);
            return;
        }

        foreach (var offset in committed.Where(c => c.Offset.Value > 0))
        {
            var key = (spec.Topic, offset.Partition.Value);
            if (_trimmedTo.GetValueOrDefault(key) >= offset.Offset.Value)
            {
                continue;
            }
            try
            {
                cluster.DeleteRecordsBefore(spec.Topic, offset.Partition.Value, offset.Offset.Value);
                _trimmedTo[key] = offset.Offset.Value;
                LogTrimmed(logger, spec.Topic, offset.Partition.Value, offset.Offset.Value);
            }
            catch (ArgumentException ex)
            {
                LogTrimFailed(logger, spec.Topic, offset.Partition.Value, ex.Message);
            }
        }
    }

    private IConsumer<Ignore, Ignore> NewConsumer(string group) =>
        new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig
        {
            BootstrapServers = cluster.BootstrapServers,
            GroupId = group,
            // Reads the group's offsets and never joins it, commits or consumes.
            EnableAutoCommit = false,
        })
        // Brokers that a fault test set down make the client log on every attempt; the failed call says enough.
        .SetLogHandler((_, message) => LogClient(logger, message.Facility, message.Message))
        .SetErrorHandler((_, _) => { })
        .Build();

    [LoggerMessage(Level = LogLevel.Information, Message = "Trimming records once consumed: {Specs} (group@topic), every {IntervalMs} ms")]
    private static partial void LogTrimming(ILogger logger, string specs, long intervalMs);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Trimmed {Topic} [{Partition}] before offset {Offset}")]
    private static partial void LogTrimmed(ILogger logger, string topic, int partition, long offset);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Committed offsets of {Spec} unknown this interval: {Reason}")]
    private static partial void LogCommittedUnknown(ILogger logger, string spec, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not trim {Topic} [{Partition}]: {Reason}")]
    private static partial void LogTrimFailed(ILogger logger, string topic, int partition, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Trimmer's client: {Facility} {Message}")]
    private static partial void LogClient(ILogger logger, string facility, string message);
}
