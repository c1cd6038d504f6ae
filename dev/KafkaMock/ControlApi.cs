using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace FlashSale.KafkaMock;

internal sealed record ErrorReply(string Error);

internal sealed record BrokerReply(string Broker, bool Up);

internal sealed record RequestErrorsReply(string Api, short ApiKey, string Error, int Code, int Count);

internal sealed record ClearedReply(IReadOnlyList<string> Cleared);

internal sealed record LeaderReply(string Topic, int Partition, int Leader);

internal sealed record TopicReply(string Topic, int Partitions, int ReplicationFactor, bool Created);

/// <summary>
/// Fault injection for tests, on loopback only: there is no authentication, and anyone who can reach
/// it can take the brokers down.
/// </summary>
internal static class ControlApi
{
    private const int MaxErrorCount = 100_000;
    private const int MaxPartitions = 10_000;

    public static IEndpointRouteBuilder MapControlApi(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/", (MockCluster cluster) => TypedResults.Ok(cluster.State()));
        routes.MapPost("/brokers/{id}/down",
            (MockCluster cluster, ILogger<MockCluster> log, string id) => SetBroker(cluster, log, id, up: false));
        routes.MapPost("/brokers/{id}/up",
            (MockCluster cluster, ILogger<MockCluster> log, string id) => SetBroker(cluster, log, id, up: true));
        routes.MapPost("/errors", PushErrors);
        routes.MapDelete("/errors", ClearErrors);
        routes.MapPost("/topics/{topic}", CreateTopic);
        routes.MapPost("/partitions/{topic}/{partition}/leader/{brokerId}", SetLeader);
        return routes;
    }

    private static Results<Ok<BrokerReply>, BadRequest<ErrorReply>> SetBroker(MockCluster cluster, ILogger log, string id, bool up)
    {
        var all = id.Equals("all", StringComparison.OrdinalIgnoreCase) || id == "-1";
        if (!all && !int.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out _))
        {
            return Bad($"Broker id must be 1..{cluster.BrokerCount} or 'all', not '{id}'.");
        }

        var brokerId = all ? MockCluster.AllBrokers : int.Parse(id, CultureInfo.InvariantCulture);
        try
        {
            cluster.SetBrokerUp(brokerId, up);
        }
        catch (ArgumentException e)
        {
            return Bad(e.Message);
        }

        log.LogInformation("Broker {Broker} {State}", all ? "all" : id, up ? "up" : "down");
        return TypedResults.Ok(new BrokerReply(all ? "all" : id, up));
    }

    private static Results<Ok<RequestErrorsReply>, BadRequest<ErrorReply>> PushErrors(
        MockCluster cluster, ILogger<MockCluster> log, string? api, string? error, string? count)
    {
        if (!KafkaNames.TryParseApiKey(api, out var apiKey))
        {
            return Bad($"api must be an ApiKey number (0..{KafkaNames.MaxApiKey}) or one of {string.Join(", ", KafkaNames.ApiNames)}; got '{api}'.");
        }

        if (!KafkaNames.TryParseError(error, out var code))
        {
            return Bad($"error must be a non-zero librdkafka error code or name (e.g. 6, NOT_LEADER_OR_FOLLOWER, REQUEST_TIMED_OUT, _TRANSPORT); got '{error}'.");
        }

        var n = 1;
        if (count is not null && (!int.TryParse(count, NumberStyles.None, CultureInfo.InvariantCulture, out n) || n < 1 || n > MaxErrorCount))
        {
            return Bad($"count must be 1..{MaxErrorCount}; got '{count}'.");
        }

        cluster.PushRequestErrors(apiKey, code, n);
        var reply = new RequestErrorsReply(KafkaNames.ApiName(apiKey), apiKey, KafkaNames.ErrorName(code), code, n);
        log.LogInformation("The next {Count} {Api} requests fail with {Error} ({Code})", n, reply.Api, reply.Error, code);
        return TypedResults.Ok(reply);
    }

    private static Results<Ok<ClearedReply>, BadRequest<ErrorReply>> ClearErrors(
        MockCluster cluster, ILogger<MockCluster> log, string? api)
    {
        if (api is not null)
        {
            if (!KafkaNames.TryParseApiKey(api, out var apiKey))
            {
                return Bad($"api must be an ApiKey number or name; got '{api}'.");
            }

            cluster.ClearRequestErrors(apiKey);
            log.LogInformation("Cleared pushed {Api} errors", KafkaNames.ApiName(apiKey));
            return TypedResults.Ok(new ClearedReply([KafkaNames.ApiName(apiKey)]));
        }

        // librdkafka clears one request type at a time; clearing a type nobody pushed to is a no-op.
        for (short apiKey = 0; apiKey <= KafkaNames.MaxApiKey; apiKey++)
        {
            cluster.ClearRequestErrors(apiKey);
        }

        log.LogInformation("Cleared all pushed errors");
        return TypedResults.Ok(new ClearedReply(["all"]));
    }

    private static Results<Ok<TopicReply>, BadRequest<ErrorReply>> CreateTopic(
        MockCluster cluster, ILogger<MockCluster> log, string topic, string? partitions, string? replication)
    {
        if (!int.TryParse(partitions, NumberStyles.None, CultureInfo.InvariantCulture, out var partitionCount)
            || partitionCount < 1 || partitionCount > MaxPartitions)
        {
            return Bad($"partitions must be 1..{MaxPartitions}; got '{partitions}'.");
        }

        var replicationFactor = 3;
        if (replication is not null && (!int.TryParse(replication, NumberStyles.None, CultureInfo.InvariantCulture, out replicationFactor)
            || replicationFactor < 1 || replicationFactor > cluster.BrokerCount))
        {
            return Bad($"replication must be 1..{cluster.BrokerCount}; got '{replication}'.");
        }

        bool created;
        try
        {
            created = cluster.CreateTopic(new TopicSpec(topic, partitionCount, replicationFactor));
        }
        catch (ArgumentException e)
        {
            return Bad(e.Message);
        }

        if (created)
        {
            log.LogInformation("Created topic {Topic} with {Partitions} partitions", topic, partitionCount);
        }

        return TypedResults.Ok(new TopicReply(topic, partitionCount, Math.Min(replicationFactor, cluster.BrokerCount), created));
    }

    private static Results<Ok<LeaderReply>, BadRequest<ErrorReply>> SetLeader(
        MockCluster cluster, ILogger<MockCluster> log, string topic, string partition, string brokerId)
    {
        if (!int.TryParse(partition, NumberStyles.None, CultureInfo.InvariantCulture, out var partitionId))
        {
            return Bad($"Partition must be a number, not '{partition}'.");
        }

        if (!int.TryParse(brokerId, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var leader))
        {
            return Bad($"Broker id must be a number (-1 for no leader), not '{brokerId}'.");
        }

        try
        {
            cluster.SetPartitionLeader(topic, partitionId, leader);
        }
        catch (ArgumentException e)
        {
            return Bad(e.Message);
        }

        log.LogInformation("Leader of {Topic} [{Partition}] is now broker {Broker}", topic, partitionId, leader);
        return TypedResults.Ok(new LeaderReply(topic, partitionId, leader));
    }

    private static BadRequest<ErrorReply> Bad(string message) => TypedResults.BadRequest(new ErrorReply(message));
}
