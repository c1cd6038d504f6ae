using System.Runtime.InteropServices;
using FlashSale.Engine.Kafka;
using Microsoft.Win32.SafeHandles;

namespace FlashSale.KafkaMock;

/// <summary>
/// The slice of librdkafka's C API (rdkafka.h, rdkafka_mock.h of v2.16) the mock host needs.
/// </summary>
/// <remarks>
/// The import name is not a file: a resolver maps it to the handle <see cref="Librdkafka"/> loaded,
/// so these calls and Confluent.Kafka share one copy of the library instead of the runtime probing
/// for <c>librdkafka.so</c>, the build that does not load on Debian 12.
/// Strings returned by librdkafka are owned by it, so they come back as pointers and are copied,
/// never freed. The mock API is experimental upstream and outside librdkafka's ABI guarantees:
/// re-check these signatures whenever librdkafka.redist moves.
/// </remarks>
internal static partial class Native
{
    private const string Library = "flashsale-librdkafka";

    /// <summary>rd_kafka_type_t.RD_KAFKA_PRODUCER.</summary>
    public const int Producer = 0;

    /// <summary>rd_kafka_conf_res_t.RD_KAFKA_CONF_OK.</summary>
    public const int ConfOk = 0;

    private static int _resolverSet;

    /// <summary>Binds <see cref="Library"/> to the librdkafka that <see cref="Librdkafka.EnsureLoaded"/> chose.</summary>
    public static void Bind()
    {
        Librdkafka.EnsureLoaded();
        var handle = Librdkafka.Handle;
        if (handle == 0)
        {
            throw new DllNotFoundException(
                $"No librdkafka was loaded by path on this OS; set {Librdkafka.PathVariable} to the librdkafka library to host the mock cluster.");
        }

        if (Interlocked.Exchange(ref _resolverSet, 1) == 0)
        {
            NativeLibrary.SetDllImportResolver(typeof(Native).Assembly,
                (name, _, _) => name == Library ? handle : 0);
        }
    }

    // rd_kafka_conf_t *rd_kafka_conf_new(void);
    [LibraryImport(Library, EntryPoint = "rd_kafka_conf_new")]
    public static partial nint ConfNew();

    // void rd_kafka_conf_destroy(rd_kafka_conf_t *conf);
    [LibraryImport(Library, EntryPoint = "rd_kafka_conf_destroy")]
    public static partial void ConfDestroy(nint conf);

    // rd_kafka_conf_res_t rd_kafka_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value,
    //                                       char *errstr, size_t errstr_size);
    [LibraryImport(Library, EntryPoint = "rd_kafka_conf_set", StringMarshalling = StringMarshalling.Utf8)]
    public static unsafe partial int ConfSet(nint conf, string name, string value, byte* errstr, nuint errstrSize);

    // rd_kafka_t *rd_kafka_new(rd_kafka_type_t type, rd_kafka_conf_t *conf, char *errstr, size_t errstr_size);
    // On success the rd_kafka_t owns conf; on failure the caller still does.
    [LibraryImport(Library, EntryPoint = "rd_kafka_new")]
    public static unsafe partial KafkaHandle New(int type, nint conf, byte* errstr, nuint errstrSize);

    // void rd_kafka_destroy(rd_kafka_t *rk);
    [LibraryImport(Library, EntryPoint = "rd_kafka_destroy")]
    public static partial void Destroy(nint rk);

    // const char *rd_kafka_err2name(rd_kafka_resp_err_t err);
    [LibraryImport(Library, EntryPoint = "rd_kafka_err2name")]
    public static partial nint Err2Name(int err);

    // rd_kafka_mock_cluster_t *rd_kafka_mock_cluster_new(rd_kafka_t *rk, int broker_cnt);
    [LibraryImport(Library, EntryPoint = "rd_kafka_mock_cluster_new")]
    public static partial MockClusterHandle MockClusterNew(KafkaHandle rk, int brokerCount);

    // void rd_kafka_mock_cluster_destroy(rd_kafka_mock_cluster_t *mcluster);
    [LibraryImport(Library, EntryPoint = "rd_kafka_mock_cluster_destroy")]
    public static partial void MockClusterDestroy(nint mcluster);

    // const char *rd_kafka_mock_cluster_bootstraps(const rd_kafka_mock_cluster_t *mcluster);
    [LibraryImport(Library, EntryPoint = "rd_kafka_mock_cluster_bootstraps")]
    public static partial nint MockClusterBootstraps(MockClusterHandle mcluster);

    // rd_kafka_resp_err_t rd_kafka_mock_topic_create(rd_kafka_mock_cluster_t *mcluster, const char *topic,
    //                                                int partition_cnt, int replication_factor);
    [LibraryImport(Library, EntryPoint = "rd_kafka_mock_topic_create", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int MockTopicCreate(MockClusterHandle mcluster, string topic, int partitionCount, int replicationFactor);

    // rd_kafka_resp_err_t rd_kafka_mock_broker_set_down(rd_kafka_mock_cluster_t *mcluster, int32_t broker_id);
    [LibraryImport(Library, EntryPoint = "rd_kafka_mock_broker_set_down")]
    public static partial int MockBrokerSetDown(MockClusterHandle mcluster, int brokerId);

    // rd_kafka_resp_err_t rd_kafka_mock_broker_set_up(rd_kafka_mock_cluster_t *mcluster, int32_t broker_id);
    [LibraryImport(Library, EntryPoint = "rd_kafka_mock_broker_set_up")]
    public static partial int MockBrokerSetUp(MockClusterHandle mcluster, int brokerId);

    // void rd_kafka_mock_push_request_errors_array(rd_kafka_mock_cluster_t *mcluster, int16_t ApiKey,
    //                                              size_t cnt, const rd_kafka_resp_err_t *errors);
    [LibraryImport(Library, EntryPoint = "rd_kafka_mock_push_request_errors_array")]
    public static unsafe partial void MockPushRequestErrorsArray(MockClusterHandle mcluster, short apiKey, nuint count, int* errors);

    // void rd_kafka_mock_clear_request_errors(rd_kafka_mock_cluster_t *mcluster, int16_t ApiKey);
    [LibraryImport(Library, EntryPoint = "rd_kafka_mock_clear_request_errors")]
    public static partial void MockClearRequestErrors(MockClusterHandle mcluster, short apiKey);

    // rd_kafka_resp_err_t rd_kafka_mock_partition_set_leader(rd_kafka_mock_cluster_t *mcluster, const char *topic,
    //                                                        int32_t partition, int32_t broker_id);
    [LibraryImport(Library, EntryPoint = "rd_kafka_mock_partition_set_leader", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int MockPartitionSetLeader(MockClusterHandle mcluster, string topic, int partition, int brokerId);

    // rd_kafka_resp_err_t rd_kafka_mock_partition_delete_records(rd_kafka_mock_cluster_t *mcluster, const char *topic,
    //                                                            int32_t partition, int64_t before_offset);
    [LibraryImport(Library, EntryPoint = "rd_kafka_mock_partition_delete_records", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int MockPartitionDeleteRecords(MockClusterHandle mcluster, string topic, int partition, long beforeOffset);

    // void rd_kafka_mock_group_initial_rebalance_delay_ms(rd_kafka_mock_cluster_t *mcluster, int32_t delay_ms);
    [LibraryImport(Library, EntryPoint = "rd_kafka_mock_group_initial_rebalance_delay_ms")]
    public static partial void MockGroupInitialRebalanceDelayMs(MockClusterHandle mcluster, int delayMs);

    /// <summary>librdkafka's name for an error code (NOT_LEADER_OR_FOLLOWER, _TRANSPORT), or "ERR_n?" for unknown codes.</summary>
    public static string ErrorName(int code) => Marshal.PtrToStringUTF8(Err2Name(code)) ?? $"ERR_{code}?";
}

/// <summary>An rd_kafka_t; the mock cluster needs one for its bookkeeping.</summary>
internal sealed class KafkaHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public KafkaHandle()
        : base(ownsHandle: true)
    {
    }

    protected override bool ReleaseHandle()
    {
        Native.Destroy(handle);
        return true;
    }
}

/// <summary>
/// An rd_kafka_mock_cluster_t. Control calls hold a reference while they run, so a request racing
/// shutdown cannot reach a destroyed cluster; the cluster in turn holds its rd_kafka_t, which must
/// outlive it.
/// </summary>
internal sealed class MockClusterHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    private KafkaHandle? _owner;

    public MockClusterHandle()
        : base(ownsHandle: true)
    {
    }

    public void KeepOwnerAlive(KafkaHandle owner)
    {
        var added = false;
        owner.DangerousAddRef(ref added);
        if (added)
        {
            _owner = owner;
        }
    }

    protected override bool ReleaseHandle()
    {
        Native.MockClusterDestroy(handle);
        _owner?.DangerousRelease();
        return true;
    }
}
