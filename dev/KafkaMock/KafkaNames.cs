using System.Globalization;
using Confluent.Kafka;

namespace FlashSale.KafkaMock;

/// <summary>Reads Kafka request types and error codes the way people write them: numbers or names.</summary>
internal static class KafkaNames
{
    // Kafka protocol ApiKeys a Kafka client sends (the mock answers a subset of them). Numbers outside
    // this table are accepted as they are.
    private static readonly Dictionary<string, short> ApiKeys = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Produce"] = 0,
        ["Fetch"] = 1,
        ["ListOffsets"] = 2,
        ["Metadata"] = 3,
        ["OffsetCommit"] = 8,
        ["OffsetFetch"] = 9,
        ["FindCoordinator"] = 10,
        ["JoinGroup"] = 11,
        ["Heartbeat"] = 12,
        ["LeaveGroup"] = 13,
        ["SyncGroup"] = 14,
        ["DescribeGroups"] = 15,
        ["ListGroups"] = 16,
        ["SaslHandshake"] = 17,
        ["ApiVersions"] = 18,
        ["CreateTopics"] = 19,
        ["DeleteTopics"] = 20,
        ["DeleteRecords"] = 21,
        ["InitProducerId"] = 22,
        ["OffsetForLeaderEpoch"] = 23,
        ["AddPartitionsToTxn"] = 24,
        ["AddOffsetsToTxn"] = 25,
        ["EndTxn"] = 26,
        ["TxnOffsetCommit"] = 28,
        ["DescribeConfigs"] = 32,
        ["SaslAuthenticate"] = 36,
        ["DescribeCluster"] = 60,
        ["ConsumerGroupHeartbeat"] = 68,
        ["GetTelemetrySubscriptions"] = 71,
        ["PushTelemetry"] = 72,
    };

    /// <summary>Highest ApiKey accepted as a number; generous, Kafka has about 80.</summary>
    public const short MaxApiKey = 127;

    // librdkafka's own names, built once from rd_kafka_err2name over the range its codes live in
    // (-200..-1 local errors such as _TRANSPORT, 0.. broker errors).
    private static readonly Lazy<Dictionary<string, int>> ErrorCodes = new(() =>
    {
        var codes = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        for (var code = -200; code < 200; code++)
        {
            var name = Native.ErrorName(code);
            if (!name.EndsWith('?'))
            {
                codes.TryAdd(name, code);
            }
        }

        // Apache Kafka's current names where librdkafka keeps an older spelling, so names copied from
        // Kafka documentation or broker logs work too.
        codes.TryAdd("NOT_LEADER_OR_FOLLOWER", 6);
        codes.TryAdd("UNKNOWN_TOPIC_OR_PARTITION", 3);
        codes.TryAdd("CORRUPT_MESSAGE", 2);
        codes.TryAdd("INVALID_FETCH_SIZE", 4);
        codes.TryAdd("MESSAGE_TOO_LARGE", 10);
        return codes;
    });

    public static IEnumerable<string> ApiNames => ApiKeys.Keys;

    public static string ApiName(short apiKey)
        => ApiKeys.FirstOrDefault(pair => pair.Value == apiKey).Key ?? apiKey.ToString(CultureInfo.InvariantCulture);

    public static bool TryParseApiKey(string? text, out short apiKey)
    {
        apiKey = -1;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        if (short.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            apiKey = number;
            return number <= MaxApiKey;
        }

        var name = text.EndsWith("Request", StringComparison.OrdinalIgnoreCase) ? text[..^"Request".Length] : text;
        return ApiKeys.TryGetValue(name, out apiKey);
    }

    /// <summary>
    /// Accepts a code (6, -195), librdkafka's name (NOT_LEADER_OR_FOLLOWER, _TRANSPORT, optionally with the
    /// RD_KAFKA_RESP_ERR_ prefix) or Confluent.Kafka's <see cref="ErrorCode"/> name (NotLeaderForPartition,
    /// Local_Transport); only codes librdkafka knows.
    /// </summary>
    public static bool TryParseError(string? text, out int code)
    {
        code = 0;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var trimmed = text.Trim();
        if (int.TryParse(trimmed, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out code))
        {
            return code != 0 && !Native.ErrorName(code).EndsWith('?');
        }

        const string prefix = "RD_KAFKA_RESP_ERR_";
        var name = trimmed.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) ? trimmed[prefix.Length..] : trimmed;
        if (ErrorCodes.Value.TryGetValue(name, out code))
        {
            return code != 0;
        }

        if (Enum.TryParse<ErrorCode>(name, ignoreCase: true, out var confluent) && Enum.IsDefined(confluent))
        {
            code = (int)confluent;
            return code != 0;
        }

        return false;
    }

    public static string ErrorName(int code) => Native.ErrorName(code);
}
