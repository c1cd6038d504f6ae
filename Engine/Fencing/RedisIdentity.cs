using StackExchange.Redis;

namespace FlashSale.Engine.Fencing;

/// <summary>
/// Which Redis server (and which history of its data) the engine is talking to: INFO's <c>run_id</c>, new on
/// every start of the server, and its replication id <c>master_replid</c>, new when a replica is promoted or a
/// server takes another's data. Either changing means the data may be older than what was acknowledged.
/// </summary>
public sealed record RedisIdentity(string RunId, string ReplicationId)
{
    public override string ToString() => $"{RunId}/{ReplicationId}";

    /// <summary>The identity of the primary the connection talks to now.</summary>
    public static async Task<RedisIdentity> ReadAsync(IConnectionMultiplexer redis)
    {
        // Through the database rather than IServer.Info, which StackExchange.Redis keeps for admin connections:
        // the engine's connection string needs no admin rights for this. Sent to the primary, where decisions are made.
        var db = redis.GetDatabase();
        var info = (string?)await db.ExecuteAsync("INFO", "server") + "\n" + (string?)await db.ExecuteAsync("INFO", "replication");
        return new RedisIdentity(Field(info, "run_id"), Field(info, "master_replid"));
    }

    private static string Field(string info, string name)
    {
        foreach (var line in info.Split('\n'))
        {
            if (line.StartsWith(name + ":", StringComparison.Ordinal))
            {
                return line[(name.Length + 1)..].Trim();
            }
        }
        throw new FormatException($"INFO has no {name}.");
    }
}
