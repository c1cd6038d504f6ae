using System.ComponentModel.DataAnnotations;
using Confluent.Kafka;

namespace FlashSale.Engine.Kafka;

/// <summary>
/// Where the reservations topic lives. Production points <c>Kafka:BootstrapServers</c> at a real
/// cluster; security settings (SASL, TLS) go into <c>Kafka:Client</c> as librdkafka properties,
/// e.g. <c>Kafka__Client__security.protocol=SASL_SSL</c>.
/// </summary>
public sealed class KafkaOptions
{
    public const string Section = "Kafka";

    [Required]
    public string BootstrapServers { get; set; } = "";

    [Required]
    public string ReservationsTopic { get; set; } = "flashsale.reservations";

    /// <summary>
    /// How soon a consumer that died without leaving (kill -9, a lost host) loses its partitions to the
    /// others. Kafka's default of 45 s would stall those partitions' orders that long.
    /// </summary>
    [Range(1_000, 300_000)]
    public int SessionTimeoutMs { get; set; } = 10_000;

    /// <summary>
    /// The longest a fetch waits at the broker for data. Part of the reservation → MySQL lag when
    /// traffic is light (librdkafka's mock broker always waits this long on an empty fetch).
    /// </summary>
    [Range(1, 10_000)]
    public int FetchWaitMaxMs { get; set; } = 100;

    /// <summary>Extra librdkafka properties for every client of this process.</summary>
    public Dictionary<string, string> Client { get; set; } = [];

    public ProducerConfig ProducerConfig() => Apply(new ProducerConfig
    {
        BootstrapServers = BootstrapServers,
        // Idempotent, acknowledged by all in-sync replicas: a retried send never duplicates or reorders.
        EnableIdempotence = true,
        Acks = Acks.All,
        // The batching happens before the produce (one record per script call), so the producer need not wait for
        // more: librdkafka's default of 5 ms was most of a durable 201's latency. With 1 ms (docs/performance.md, "Group commit"):
        // under wrk -c64, 12,800-14,500 201s a second against 7,800-8,200, p50 4.0-4.5 ms against 7.6-8.0, engine CPU
        // per 201 109 µs against 137-149 (bigger batches); in the 2,000 req/s soak a p50 of 2.0 ms against 5.8 and
        // every minute's p99 8-12 ms; at that rate 2-11% more engine CPU per reservation (the Kafka mock's produces).
        // An earlier try, before the thread hand-offs were fixed, had found it worse. Kafka:Client:linger.ms overrides.
        LingerMs = 1,
        BatchNumMessages = 10_000,
        CompressionType = CompressionType.Lz4,
    });

    public ConsumerConfig ConsumerConfig(string groupId) => Apply(new ConsumerConfig
    {
        BootstrapServers = BootstrapServers,
        GroupId = groupId,
        // Offsets are stored by hand once the work is durable, then committed in the background.
        EnableAutoOffsetStore = false,
        EnableAutoCommit = true,
        AutoCommitIntervalMs = 500,
        AutoOffsetReset = AutoOffsetReset.Earliest,
        SessionTimeoutMs = SessionTimeoutMs,
        FetchWaitMaxMs = FetchWaitMaxMs,
        HeartbeatIntervalMs = Math.Max(500, SessionTimeoutMs / 5),
        PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky,
    });

    private T Apply<T>(T config) where T : ClientConfig
    {
        Librdkafka.EnsureLoaded();
        foreach (var (key, value) in Client)
        {
            config.Set(key, value);
        }
        return config;
    }
}
