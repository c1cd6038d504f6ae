using System.Collections.Concurrent;
using System.Threading.Channels;
using Confluent.Kafka;
using FlashSale.Engine.Kafka;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace FlashSale.Engine.Persistence;

/// <summary>
/// Consumes the reservations topic into sharded MySQL. One thread owns the Kafka consumer; a
/// bounded channel carries messages to the batch writer; the writer hands back the offsets it may
/// store only after every shard of the batch committed, and the consumer thread stores them.
/// A crash anywhere means redelivery of uncommitted offsets, which the idempotent insert absorbs.
/// </summary>
internal sealed partial class ReservationConsumer(
    IOptions<KafkaOptions> kafka,
    IOptions<PersistenceOptions> options,
    OrderBatchWriter writer,
    PersistenceMetrics metrics,
    TimeProvider time,
    ILogger<ReservationConsumer> logger) : BackgroundService
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan LagInterval = TimeSpan.FromSeconds(1);

    private readonly ConcurrentQueue<TopicPartitionOffset> _durable = new();

    // Partitions this consumer holds, and the last offset it stored for each: the consumer thread's alone
    // (rebalance callbacks run inside Consume and Close on that thread).
    private readonly Dictionary<int, long> _held = [];

    private long _lastLagReport;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        var buffer = Channel.CreateBounded<ConsumeResult<string, byte[]>>(
            new BoundedChannelOptions(settings.BufferSize) { SingleReader = true, SingleWriter = true });

        using var consumer = new ConsumerBuilder<string, byte[]>(kafka.Value.ConsumerConfig(settings.ConsumerGroup))
            .SetErrorHandler((_, error) => LogKafkaError(logger, error.Code, error.Reason))
            .SetPartitionsAssignedHandler((_, partitions) =>
            {
                foreach (var partition in partitions)
                {
                    _held[partition.Partition.Value] = Offset.Unset.Value;
                }
                LogAssigned(logger, string.Join(", ", partitions));
            })
            .SetPartitionsRevokedHandler((_, partitions) => Release(partitions.Select(p => p.Partition.Value)))
            .Build();
        consumer.Subscribe(kafka.Value.ReservationsTopic);

        var consuming = Task.Factory.StartNew(
            () => Consume(consumer, buffer.Writer, stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        try
        {
            await WriteBatchesAsync(buffer.Reader, settings, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            await consuming;
            StoreDurableOffsets(consumer);
            // Commits what was stored and leaves the group at once, so a restart does not wait a session timeout.
            consumer.Close();
            Release([.. _held.Keys]);
        }
    }

    /// <summary>The partitions went to another consumer (or this one stops): their lag is not ours to report.</summary>
    private void Release(IEnumerable<int> partitions)
    {
        foreach (var partition in partitions)
        {
            _held.Remove(partition);
            metrics.ConsumerPartitionGone(partition);
        }
    }

    /// <summary>
    /// Per held partition, the high watermark librdkafka cached from its last fetch minus the offset stored
    /// once the batch was durable (before the first store, the consume position). Called from both loops of
    /// the consumer thread, so the lag keeps growing while the writer is stuck and the buffer is full.
    /// </summary>
    private void ReportLag(IConsumer<string, byte[]> consumer)
    {
        if (_lastLagReport != 0 && time.GetElapsedTime(_lastLagReport) < LagInterval)
        {
            return;
        }
        _lastLagReport = time.GetTimestamp();
        foreach (var (partition, stored) in _held)
        {
            var topicPartition = new TopicPartition(kafka.Value.ReservationsTopic, partition);
            var high = consumer.GetWatermarkOffsets(topicPartition).High;
            var from = stored;
            if (from < 0)
            {
                try
                {
                    from = consumer.Position(topicPartition).Value;
                }
                catch (KafkaException)
                {
                    continue;
                }
            }
            // Both are unknown until the partition's first fetch and first message; then it is left out rather than guessed.
            if (high.Value >= 0 && from >= 0)
            {
                metrics.ConsumerLag(partition, Math.Max(0, high.Value - from));
            }
        }
    }

    private void Consume(IConsumer<string, byte[]> consumer, ChannelWriter<ConsumeResult<string, byte[]>> buffer, CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                StoreDurableOffsets(consumer);
                ReportLag(consumer);
                var result = consumer.Consume(TimeSpan.FromMilliseconds(100));
                if (result is null || result.IsPartitionEOF)
                {
                    continue;
                }
                // Back-pressure: wait for room, but keep storing offsets meanwhile so the writer never stalls on us.
                while (!buffer.TryWrite(result))
                {
                    stoppingToken.ThrowIfCancellationRequested();
                    StoreDurableOffsets(consumer);
                    ReportLag(consumer);
                    Thread.Sleep(1);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            buffer.TryComplete();
        }
    }

    private void StoreDurableOffsets(IConsumer<string, byte[]> consumer)
    {
        while (_durable.TryDequeue(out var offset))
        {
            try
            {
                consumer.StoreOffset(offset);
                if (_held.ContainsKey(offset.Partition.Value))
                {
                    _held[offset.Partition.Value] = offset.Offset.Value;
                }
            }
            catch (KafkaException ex)
            {
                // The partition moved to another consumer in a rebalance: it will redeliver, and the insert absorbs it.
                LogStoreFailed(logger, offset.ToString(), ex.Error.Reason);
            }
        }
    }

    private async Task WriteBatchesAsync(ChannelReader<ConsumeResult<string, byte[]>> buffer, PersistenceOptions settings, CancellationToken stoppingToken)
    {
        var batch = new List<ConsumeResult<string, byte[]>>(settings.BatchSize);
        while (await buffer.WaitToReadAsync(stoppingToken))
        {
            batch.Clear();
            using (var linger = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken))
            {
                linger.CancelAfter(settings.LingerMs);
                try
                {
                    while (batch.Count < settings.BatchSize)
                    {
                        if (buffer.TryRead(out var message))
                        {
                            batch.Add(message);
                        }
                        else if (!await buffer.WaitToReadAsync(linger.Token))
                        {
                            break;
                        }
                    }
                }
                catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
                {
                }
            }

            var events = new List<ReservationEvent>(batch.Count * 8);
            foreach (var message in batch)
            {
                try
                {
                    events.AddRange(ReservationRecords.Read(message.Message));
                }
                catch (System.Text.Json.JsonException ex)
                {
                    // Not an order we can write; keeping it would block the partition forever. It stays in Kafka for inspection.
                    LogPoison(logger, ex, message.TopicPartitionOffset.ToString());
                }
            }

            var inserted = await WriteWithRetryAsync(events, stoppingToken);
            foreach (var last in batch.GroupBy(m => m.TopicPartition).Select(g => g.MaxBy(m => m.Offset.Value)!))
            {
                _durable.Enqueue(new TopicPartitionOffset(last.TopicPartition, last.Offset + 1));
            }
            LogBatch(logger, batch.Count, inserted);
        }
    }

    /// <summary>A batch is retried until it commits: skipping it would lose acknowledged reservations.</summary>
    private async Task<int> WriteWithRetryAsync(List<ReservationEvent> events, CancellationToken stoppingToken)
    {
        var backoff = TimeSpan.FromMilliseconds(50);
        while (true)
        {
            try
            {
                return await writer.WriteAsync(events, stoppingToken);
            }
            catch (MySqlException ex) when (!stoppingToken.IsCancellationRequested)
            {
                LogWriteFailed(logger, ex, events.Count, backoff.TotalMilliseconds);
                await Task.Delay(backoff, stoppingToken);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kafka: {Code} {Reason}")]
    private static partial void LogKafkaError(ILogger logger, ErrorCode code, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Assigned partitions: {Partitions}")]
    private static partial void LogAssigned(ILogger logger, string partitions);

    [LoggerMessage(Level = LogLevel.Information, Message = "Could not store offset {Offset}: {Reason}")]
    private static partial void LogStoreFailed(ILogger logger, string offset, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Skipping unreadable reservation event at {Position}")]
    private static partial void LogPoison(ILogger logger, Exception exception, string position);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Wrote a batch of {Count} events, {Inserted} new orders")]
    private static partial void LogBatch(ILogger logger, int count, int inserted);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Writing a batch of {Count} failed; retrying in {BackoffMs} ms")]
    private static partial void LogWriteFailed(ILogger logger, Exception exception, int count, double backoffMs);
}
