using System.Globalization;
using System.Text;
using Confluent.Kafka;
using FlashSale.Engine.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlashSale.Engine.Relay;

/// <summary>
/// The process's one Kafka producer of reservation events (idempotent, acks=all), shared by the Ingress's durable
/// acknowledgements and the outbox relay. Built on first use; a producer that failed fatally (an idempotent
/// producer that lost its sequence can send nothing more) is replaced on the next use, and
/// <see cref="Generation"/> tells the users that what it had in flight will never be confirmed.
/// Flushed (up to 5 s) and disposed with the host.
/// </summary>
public sealed partial class EventProducer(IOptions<KafkaOptions> kafka, IOptions<RelayOptions> relay, ILogger<EventProducer> logger) : IDisposable
{

    private readonly Lock _lock = new();
    private IProducer<string, byte[]>? _producer;
    private volatile bool _failed;
    private int _generation;

    public string Topic => kafka.Value.ReservationsTopic;

    /// <summary>Bumped each time a producer is built: deliveries pending on an older one are lost with it.</summary>
    public int Generation => Volatile.Read(ref _generation);

    /// <summary>The live producer, built or rebuilt when needed.</summary>
    public IProducer<string, byte[]> Producer
    {
        get
        {
            var producer = Volatile.Read(ref _producer);
            if (producer is not null && !_failed)
            {
                return producer;
            }
            lock (_lock)
            {
                if (_producer is null || _failed)
                {
                    if (_producer is { } failed)
                    {
                        LogRebuilding(logger);
                        // Off the request path: destroying a client waits for its broker threads.
                        _ = Task.Run(failed.Dispose);
                    }
                    _failed = false;
                    Volatile.Write(ref _producer, Build());
                    Interlocked.Increment(ref _generation);
                }
                return _producer!;
            }
        }
    }

    /// <summary>A delivery Kafka confirmed with an offset. A "success" without one (a DUPLICATE_SEQUENCE_NUMBER answer) is not taken on trust.</summary>
    public static bool IsDurable(DeliveryReport<string, byte[]> report) => !report.Error.IsError && report.Offset != Offset.Unset;

    /// <summary>Marks the producer failed after a fatal produce error, so the next use replaces it.</summary>
    public void Failed() => _failed = true;

    private IProducer<string, byte[]> Build()
    {
        var config = kafka.Value.ProducerConfig();
        // librdkafka gives up on a record after this long; half the relay's safety-net age, so an Ingress's own
        // produce has ended (confirmed or failed) before the relay may send the same fresh entry.
        config.MessageTimeoutMs = relay.Value.SafetyNetAgeMs / 2;
        return new ProducerBuilder<string, byte[]>(config)
            .SetErrorHandler((_, error) =>
            {
                LogKafkaError(logger, error.Code, error.Reason);
                if (error.IsFatal)
                {
                    _failed = true;
                }
            })
            .Build();
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_producer is null)
            {
                return;
            }
            // What Kafka has not confirmed stays in Redis (outbox entry and pending mark): re-sent later, absorbed downstream.
            _producer.Flush(TimeSpan.FromSeconds(5));
            _producer.Dispose();
            _producer = null;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kafka: {Code} {Reason}")]
    private static partial void LogKafkaError(ILogger logger, ErrorCode code, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "The Kafka producer failed fatally; replacing it (what it had not confirmed is sent again from the outbox)")]
    private static partial void LogRebuilding(ILogger logger);
}
