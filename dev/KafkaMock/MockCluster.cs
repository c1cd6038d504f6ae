using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using FlashSale.Engine.Kafka;

namespace FlashSale.KafkaMock;

internal sealed record TopicSpec(string Name, int Partitions, int ReplicationFactor);

internal sealed record BrokerState(int Id, bool Up);

internal sealed record ClusterState(
    string BootstrapServers,
    string Librdkafka,
    string? LibraryPath,
    IReadOnlyList<BrokerState> Brokers,
    IReadOnlyList<TopicSpec> Topics);

/// <summary>
/// librdkafka's in-memory mock cluster, owned by this process. Every method is safe to call from
/// concurrent control requests: librdkafka serialises them on the cluster's own thread.
/// </summary>
/// <remarks>Invalid input throws <see cref="ArgumentException"/>, whose message is meant for the caller.</remarks>
internal sealed partial class MockCluster : IDisposable
{
    /// <summary>The broker id that set_down/set_up read as every broker.</summary>
    public const int AllBrokers = -1;

    private readonly KafkaHandle _kafka;
    private readonly MockClusterHandle _cluster;
    private readonly Lock _gate = new();
    private readonly bool[] _up;
    private readonly Dictionary<string, TopicSpec> _topics = new(StringComparer.Ordinal);

    private MockCluster(KafkaHandle kafka, MockClusterHandle cluster, int brokerCount)
    {
        _kafka = kafka;
        _cluster = cluster;
        _up = Enumerable.Repeat(true, brokerCount).ToArray();
        BootstrapServers = Marshal.PtrToStringUTF8(Native.MockClusterBootstraps(cluster))
            ?? throw new InvalidOperationException("The mock cluster reported no bootstrap servers.");
    }

    /// <summary>Comma-separated 127.0.0.1:port of each broker; ports are random and last as long as this process.</summary>
    public string BootstrapServers { get; }

    public int BrokerCount => _up.Length;

    /// <summary>Starts a cluster of <paramref name="brokerCount"/> brokers with ids 1..n, listening on loopback.</summary>
    public static MockCluster Start(int brokerCount)
    {
        Native.Bind();
        var kafka = NewProducerHandle();
        var cluster = Native.MockClusterNew(kafka, brokerCount);
        if (cluster.IsInvalid)
        {
            kafka.Dispose();
            throw new InvalidOperationException("rd_kafka_mock_cluster_new failed; librdkafka logged why on stderr.");
        }

        cluster.KeepOwnerAlive(kafka);
        return new MockCluster(kafka, cluster, brokerCount);
    }

    /// <summary>Creates the topic; false when it exists already with as many partitions.</summary>
    public bool CreateTopic(TopicSpec topic)
    {
        if (!TopicName().IsMatch(topic.Name))
        {
            throw new ArgumentException($"'{topic.Name}' is not a Kafka topic name (1..249 of a-z A-Z 0-9 . _ -).");
        }

        // One lock around check and create, so two requests for the same new topic cannot both create it.
        lock (_gate)
        {
            if (_topics.TryGetValue(topic.Name, out var existing))
            {
                return existing.Partitions == topic.Partitions
                    ? false
                    : throw new ArgumentException($"Topic '{topic.Name}' exists with {existing.Partitions} partitions, not {topic.Partitions}.");
            }

            Check(Native.MockTopicCreate(_cluster, topic.Name, topic.Partitions, topic.ReplicationFactor), $"create topic {topic.Name}");
            // librdkafka caps the replication factor at the broker count; report what it did.
            _topics[topic.Name] = topic with { ReplicationFactor = Math.Min(topic.ReplicationFactor, BrokerCount) };
            return true;
        }
    }

    /// <summary>How long a new consumer group waits for more members before its first assignment.</summary>
    public void SetGroupInitialRebalanceDelay(int milliseconds)
        => Native.MockGroupInitialRebalanceDelayMs(_cluster, milliseconds);

    /// <summary>
    /// Down closes the broker's connections and refuses new ones, keeping its port; partitions it leads
    /// stay led by it (librdkafka does not move leadership), so their clients wait until it is up again.
    /// </summary>
    public void SetBrokerUp(int brokerId, bool up)
    {
        if (brokerId != AllBrokers)
        {
            CheckBroker(brokerId);
        }

        var error = up ? Native.MockBrokerSetUp(_cluster, brokerId) : Native.MockBrokerSetDown(_cluster, brokerId);
        Check(error, up ? $"set broker {brokerId} up" : $"set broker {brokerId} down");
        lock (_gate)
        {
            if (brokerId == AllBrokers)
            {
                Array.Fill(_up, up);
            }
            else
            {
                _up[brokerId - 1] = up;
            }
        }
    }

    /// <summary>The next <paramref name="count"/> requests of that type, to any broker, fail with <paramref name="error"/>.</summary>
    public void PushRequestErrors(short apiKey, int error, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        var errors = new int[count];
        Array.Fill(errors, error);
        unsafe
        {
            fixed (int* first = errors)
            {
                Native.MockPushRequestErrorsArray(_cluster, apiKey, (nuint)errors.Length, first);
            }
        }
    }

    /// <summary>Drops errors pushed for <paramref name="apiKey"/> that no request consumed yet.</summary>
    public void ClearRequestErrors(short apiKey) => Native.MockClearRequestErrors(_cluster, apiKey);

    /// <summary>Moves a partition's leadership; <paramref name="brokerId"/> -1 leaves it without a leader.</summary>
    public void SetPartitionLeader(string topic, int partition, int brokerId)
    {
        // librdkafka would create an unknown topic on the spot: refuse, a typo must not make a topic.
        TopicSpec? spec;
        lock (_gate)
        {
            _topics.TryGetValue(topic, out spec);
        }

        if (spec is null)
        {
            throw new ArgumentException($"Unknown topic '{topic}'; this host created {string.Join(", ", TopicNames())}.");
        }

        if (partition < 0 || partition >= spec.Partitions)
        {
            throw new ArgumentException($"Topic '{topic}' has partitions 0..{spec.Partitions - 1}, not {partition}.");
        }

        if (brokerId != -1)
        {
            CheckBroker(brokerId);
        }

        Check(Native.MockPartitionSetLeader(_cluster, topic, partition, brokerId), $"set leader of {topic} [{partition}]");
    }

    /// <summary>
    /// Deletes a partition's records before <paramref name="beforeOffset"/> (whole record batches) and moves its start
    /// offset there, as a broker's retention would.
    /// </summary>
    public void DeleteRecordsBefore(string topic, int partition, long beforeOffset)
        => Check(Native.MockPartitionDeleteRecords(_cluster, topic, partition, beforeOffset), $"delete records of {topic} [{partition}] before {beforeOffset}");

    public ClusterState State()
    {
        lock (_gate)
        {
            return new ClusterState(
                BootstrapServers,
                Confluent.Kafka.Library.VersionString,
                Librdkafka.LoadedPath,
                _up.Select((up, index) => new BrokerState(index + 1, up)).ToArray(),
                _topics.Values.OrderBy(t => t.Name, StringComparer.Ordinal).ToArray());
        }
    }

    public void Dispose()
    {
        // Each handle frees its native object once the last in-flight call releases it; the cluster
        // holds a reference on the rd_kafka_t, so it is always destroyed first.
        _cluster.Dispose();
        _kafka.Dispose();
    }

    [GeneratedRegex("^[a-zA-Z0-9._-]{1,249}$", RegexOptions.CultureInvariant)]
    private static partial Regex TopicName();

    private static unsafe KafkaHandle NewProducerHandle()
    {
        const int errorSize = 512;
        var errorText = stackalloc byte[errorSize];
        var conf = Native.ConfNew();
        try
        {
            Set(conf, "client.id", "flashsale-kafka-mock", errorText, errorSize);
            // No bootstrap.servers: this handle never connects, it only owns the mock cluster. Warnings
            // and errors still show; the notice that it has no bootstrap.servers would only mislead.
            Set(conf, "log_level", "4", errorText, errorSize);

            var kafka = Native.New(Native.Producer, conf, errorText, errorSize);
            if (kafka.IsInvalid)
            {
                throw new InvalidOperationException($"rd_kafka_new: {Text(errorText)}");
            }

            conf = 0;
            return kafka;
        }
        finally
        {
            if (conf != 0)
            {
                Native.ConfDestroy(conf);
            }
        }
    }

    private static unsafe void Set(nint conf, string name, string value, byte* errorText, int errorSize)
    {
        if (Native.ConfSet(conf, name, value, errorText, (nuint)errorSize) != Native.ConfOk)
        {
            throw new InvalidOperationException($"rd_kafka_conf_set {name}: {Text(errorText)}");
        }
    }

    private static unsafe string Text(byte* nulTerminated) => Marshal.PtrToStringUTF8((nint)nulTerminated) ?? "";

    private static void Check(int error, string what)
    {
        if (error != 0)
        {
            throw new ArgumentException($"{what}: {Native.ErrorName(error)} ({error})");
        }
    }

    private void CheckBroker(int brokerId)
    {
        if (brokerId < 1 || brokerId > BrokerCount)
        {
            throw new ArgumentException($"Broker ids are 1..{BrokerCount}, not {brokerId}.");
        }
    }

    private string[] TopicNames()
    {
        lock (_gate)
        {
            return [.. _topics.Keys];
        }
    }
}
