using StackExchange.Redis;

namespace FlashSale.Engine.Fencing;

/// <summary>
/// Which Redis server (and which history of its data) the engine is talking to: INFO's <c>run_id</c>, new on
/// every start of the server, and its replication id <c>master_replid</c>, new when a replica is promoted or a
/// server takes another's data. Either changing means the data may be older than what was acknowledged.
/// <para>
/// On a Redis Cluster every primary has an identity of its own, and the cluster's is all of them together
/// (<see cref="Combine"/>): their run ids and replication ids, each list in the same order, joined by commas. A
/// restart or failover of any one primary changes it; <see cref="Members"/> says which primary did.
/// </para>
/// </summary>
public sealed record RedisIdentity(string RunId, string ReplicationId)
{
    public override string ToString() => $"{RunId}/{ReplicationId}";

    /// <summary>The identities of the primaries this one is made of: itself for a single server.</summary>
    public IReadOnlyList<RedisIdentity> Members
    {
        get
        {
            var runs = RunId.Split(',');
            var replications = ReplicationId.Split(',');
            return runs.Length == 1 || runs.Length != replications.Length
                ? [this]
                : [.. runs.Zip(replications, (run, replication) => new RedisIdentity(run, replication))];
        }
    }

    /// <summary>The identity of a cluster: its primaries' identities, ordered by run id so every process writes it alike.</summary>
    public static RedisIdentity Combine(IEnumerable<RedisIdentity> primaries)
    {
        var ordered = primaries.OrderBy(p => p.RunId, StringComparer.Ordinal).ThenBy(p => p.ReplicationId, StringComparer.Ordinal).ToList();
        return new RedisIdentity(string.Join(',', ordered.Select(p => p.RunId)), string.Join(',', ordered.Select(p => p.ReplicationId)));
    }

    /// <summary>The identity of the Redis the connection talks to now: the server's, or the cluster's.</summary>
    public static async Task<RedisIdentity> ReadAsync(IConnectionMultiplexer redis) => (await RedisTopology.ReadAsync(redis)).Identity;

    /// <summary>One primary's identity from its <c>INFO server</c> and <c>INFO replication</c>.</summary>
    internal static RedisIdentity Parse(string info) => new(RedisTopology.Field(info, "run_id"), RedisTopology.Field(info, "master_replid"));
}
