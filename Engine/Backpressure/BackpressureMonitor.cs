using System.Diagnostics.Metrics;
using FlashSale.Engine.Redis;
using FlashSale.Engine.Relay;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace FlashSale.Engine.Backpressure;

/// <summary>
/// Watches the durable path behind Redis and says when it is behind (<see cref="IsBusy"/>): Kafka's delivery latency as
/// this Ingress's producers see it, the outbox backlog in Redis, and the Persisters' consumer lag read from Kafka.
/// <see cref="Reservations.ReservationService"/> then answers new reservations 503 busy and lets sold-out answers and
/// replays through. Every Ingress measures for itself (the backlog and the lag are the same for all of them; the delivery
/// latency is its own), and recovers by itself once the causes are back under their thresholds.
/// </summary>
public sealed partial class BackpressureMonitor : BackgroundService
{
    public const string DeliveryLatency = "delivery-latency";
    public const string OutboxBacklog = "outbox-backlog";
    public const string ConsumerLag = "consumer-lag";

    private readonly IDatabase _redis;
    private readonly DeliveryStats _deliveries;
    private readonly ConsumerLagProbe? _lagProbe;
    private readonly DurableAcknowledger? _acknowledger;
    private readonly TimeProvider _time;
    private readonly ILogger<BackpressureMonitor> _logger;
    private readonly TimeSpan _interval;
    private volatile bool _busy;

    public BackpressureMonitor(
        IDatabase redis,
        DeliveryStats deliveries,
        IOptions<BackpressureOptions> options,
        IMeterFactory meterFactory,
        TimeProvider time,
        ILogger<BackpressureMonitor> logger,
        ConsumerLagProbe? lagProbe = null,
        DurableAcknowledger? acknowledger = null)
    {
        _redis = redis;
        _deliveries = deliveries;
        _lagProbe = lagProbe;
        _acknowledger = acknowledger;
        _time = time;
        _logger = logger;
        var settings = options.Value;
        _interval = TimeSpan.FromMilliseconds(settings.CheckIntervalMs);
        RetryAfterSeconds = settings.RetryAfterSeconds;
        Latency = new(DeliveryLatency, settings.DeliveryLatencyMs, settings.ResumeRatio);
        Backlog = new(OutboxBacklog, settings.OutboxBacklog, settings.ResumeRatio);
        Lag = new(ConsumerLag, lagProbe is null ? 0 : settings.ConsumerLagBytes, settings.ResumeRatio);
        Triggers = [Latency, Backlog, Lag];
        BackpressureMetrics.Register(meterFactory, this);
    }

    /// <summary>True while any trigger is active: new reservations are refused 503 busy.</summary>
    public bool IsBusy => _busy;

    public int RetryAfterSeconds { get; }

    /// <summary>Kafka delivery latency in milliseconds.</summary>
    public BackpressureTrigger Latency { get; }

    /// <summary>Outbox entries of every live SKU.</summary>
    public BackpressureTrigger Backlog { get; }

    /// <summary>Estimated bytes of consumer lag on the partition furthest behind.</summary>
    public BackpressureTrigger Lag { get; }

    public IReadOnlyList<BackpressureTrigger> Triggers { get; }

    /// <summary>The last consumer lag read from Kafka, in records; null before the first (or without Kafka).</summary>
    public ConsumerLag? LastConsumerLag { get; private set; }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.WhenAll(
        WatchAsync(stoppingToken),
        // Its own loop: a Kafka that does not answer makes a probe wait seconds, which must not hold the other triggers.
        _lagProbe is null ? Task.CompletedTask : Task.Run(() => WatchLagAsync(_lagProbe, stoppingToken), stoppingToken));

    private async Task WatchAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var (count, mean) = _deliveries.TakeWindow();
            var oldest = _acknowledger?.OldestUnconfirmed() ?? TimeSpan.Zero;
            Apply(Latency, Math.Max(count > 0 ? mean.TotalMilliseconds : 0, oldest.TotalMilliseconds));
            try
            {
                Apply(Backlog, await OutboxEntriesAsync(_redis));
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Redis unreachable: reservations fail on their own; the backlog keeps its last state (and the loop lives on).
                LogMeasureFailed(_logger, ex, OutboxBacklog);
            }
            try
            {
                await Task.Delay(_interval, _time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task WatchLagAsync(ConsumerLagProbe probe, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var lag = probe.Measure();
                LastConsumerLag = lag;
                Apply(Lag, lag.MaxPartitionLag * _deliveries.MeanRecordBytes);
                if (lag.Lost > 0)
                {
                    LogRecordsLost(_logger, lag.Lost);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Kafka unreachable (or any other failure of a probe): the delivery latency sees an outage; the lag keeps
                // its last state. The loop must outlive every failure: a dead monitor would keep a busy Ingress busy for ever.
                LogMeasureFailed(_logger, ex, ConsumerLag);
            }
            try
            {
                await Task.Delay(_interval, _time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Entries in the outbox streams of every live SKU, in one pipelined round trip.</summary>
    private static async Task<long> OutboxEntriesAsync(IDatabase db)
    {
        var skus = await RedisKeyspace.LiveSkusAsync(db);
        var lengths = await Task.WhenAll(skus.Select(sku => db.StreamLengthAsync(sku.Outbox)));
        return lengths.Sum();
    }

    private void Apply(BackpressureTrigger trigger, double value)
    {
        if (trigger.Update(value))
        {
            if (trigger.Active)
            {
                LogTriggered(_logger, trigger.Name, value, trigger.Threshold);
            }
            else
            {
                LogCleared(_logger, trigger.Name, value);
            }
        }
        _busy = Latency.Active || Backlog.Active || Lag.Active;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Backpressure on: {Trigger} is {Value:0} (threshold {Threshold:0}); new reservations are answered 503 busy")]
    private static partial void LogTriggered(ILogger logger, string trigger, double value, double threshold);

    [LoggerMessage(Level = LogLevel.Information, Message = "Backpressure cleared: {Trigger} is back to {Value:0}")]
    private static partial void LogCleared(ILogger logger, string trigger, double value);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Backpressure: could not measure {Trigger}; it keeps its last state")]
    private static partial void LogMeasureFailed(ILogger logger, Exception exception, string trigger);

    [LoggerMessage(Level = LogLevel.Error, Message = "The Persisters' committed offsets lie below the low watermark on {Partitions} partition(s): Kafka dropped records they had not read")]
    private static partial void LogRecordsLost(ILogger logger, int partitions);
}
