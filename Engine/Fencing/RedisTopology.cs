using System.Globalization;
using FlashSale.Engine.Redis;
using StackExchange.Redis;

namespace FlashSale.Engine.Fencing;

/// <summary>A range of hash slots a cluster primary serves, both ends included.</summary>
public readonly record struct SlotRange(int From, int To)
{
    public int Count => To - From + 1;

    public bool Contains(int slot) => slot >= From && slot <= To;

    public override string ToString() => From == To ? From.ToString(CultureInfo.InvariantCulture) : $"{From}-{To}";
}

/// <summary>One primary: where it listens, its identity, and the hash slots it serves (null: every key, a single server).</summary>
public sealed record RedisPrimary(string EndPoint, RedisIdentity Identity, IReadOnlyList<SlotRange>? Slots)
{
    public bool Serves(int slot) => Slots is null || Slots.Any(r => r.Contains(slot));

    public override string ToString() => Slots is null ? $"{EndPoint} ({Identity})" : $"{EndPoint} (slots {string.Join(',', Slots)}, {Identity})";
}

/// <summary>
/// The primaries the engine's decisions live on, each with its identity: one server, or every primary of a Redis
/// Cluster with the slots it serves. The fencing watch reads it every second; on a cluster that is one
/// <c>CLUSTER NODES</c> and two <c>INFO</c> per primary, each INFO sent to the primary it describes.
/// </summary>
public sealed class RedisTopology
{
    private RedisTopology(IReadOnlyList<RedisPrimary> primaries, bool isCluster)
    {
        Primaries = primaries;
        IsCluster = isCluster;
    }

    public IReadOnlyList<RedisPrimary> Primaries { get; }

    public bool IsCluster { get; }

    /// <summary>The single server's identity, or the cluster's (every primary's, <see cref="RedisIdentity.Combine"/>).</summary>
    public RedisIdentity Identity => IsCluster ? RedisIdentity.Combine(Primaries.Select(p => p.Identity)) : Primaries[0].Identity;

    /// <summary>
    /// The primaries whose identity is not among <paramref name="trusted"/>'s members: restarted, promoted, or new since
    /// the engine last knew they held everything. Every primary when nothing is trusted.
    /// </summary>
    public IReadOnlyList<RedisPrimary> NotIn(RedisIdentity? trusted)
    {
        var known = trusted?.Members.ToHashSet() ?? [];
        return [.. Primaries.Where(p => !known.Contains(p.Identity))];
    }

    /// <summary>The primary that holds the SKU's keys (they share its hash tag, so one slot).</summary>
    public RedisPrimary PrimaryOf(SkuKeys sku) => PrimaryOfSlot(HashSlot.Of(sku.Tag), sku.Member);

    /// <summary>The primary that serves <paramref name="slot"/> (a coupon pool's keys share its tag's slot); <paramref name="what"/> names it in the error.</summary>
    public RedisPrimary PrimaryOfSlot(int slot, string what)
        => Primaries.FirstOrDefault(p => p.Serves(slot))
            ?? throw new RedisException($"No primary serves hash slot {slot} of {what}.");

    /// <summary>
    /// Reads the topology now. On a cluster every hash slot must be served by a primary that answers and says it is
    /// one: otherwise (a primary down, a failover under way) this throws, and the watch tries again, with the gate
    /// closed, rather than judge a cluster it could not see whole.
    /// </summary>
    /// <exception cref="RedisException">Redis did not answer, or the cluster's map was incomplete or changing.</exception>
    public static async Task<RedisTopology> ReadAsync(IConnectionMultiplexer redis)
    {
        // Through the database rather than IServer.Info, which StackExchange.Redis keeps for admin connections: the
        // engine's connection string needs no admin rights for this. Sent to a primary, where decisions are made.
        var db = redis.GetDatabase();
        var cluster = (string?)await db.ExecuteAsync("INFO", "cluster") ?? "";
        if (OptionalField(cluster, "cluster_enabled") != "1")
        {
            var info = (string?)await db.ExecuteAsync("INFO", "server") + "\n" + (string?)await db.ExecuteAsync("INFO", "replication");
            return new RedisTopology([new RedisPrimary(EndPointOf(redis), RedisIdentity.Parse(info), null)], isCluster: false);
        }

        var map = ParseClusterNodes((string?)await db.ExecuteAsync("CLUSTER", "NODES") ?? "");
        var covered = map.Sum(m => m.Slots.Sum(r => r.Count));
        if (covered != HashSlot.Count)
        {
            throw new RedisException($"The cluster's primaries serve {covered} of {HashSlot.Count} hash slots: a primary is missing or slots are moving.");
        }
        var primaries = await Task.WhenAll(map.Select(async node =>
        {
            IServer server;
            try
            {
                server = redis.GetServer(node.EndPoint);
            }
            catch (ArgumentException ex)
            {
                throw new RedisException($"Primary {node.EndPoint} is not yet known to the connection.", ex);
            }
            var info = (string?)await server.ExecuteAsync("INFO", "server") + "\n" + (string?)await server.ExecuteAsync("INFO", "replication");
            if (Field(info, "role") != "master")
            {
                throw new RedisException($"{node.EndPoint} serves slots in the cluster's map but is a {Field(info, "role")}: a failover is under way.");
            }
            return new RedisPrimary(node.EndPoint, RedisIdentity.Parse(info), node.Slots);
        }));
        return new RedisTopology(primaries, isCluster: true);
    }

    /// <summary>The primaries of a <c>CLUSTER NODES</c> reply that serve slots: address and slot ranges (slots being migrated aside).</summary>
    public static IReadOnlyList<(string EndPoint, IReadOnlyList<SlotRange> Slots)> ParseClusterNodes(string nodes)
    {
        var primaries = new List<(string, IReadOnlyList<SlotRange>)>();
        foreach (var line in nodes.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            // <id> <ip:port@cport[,hostname]> <flags> <master> <ping-sent> <pong-recv> <config-epoch> <link-state> <slot>...
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 9 || !fields[2].Split(',').Contains("master"))
            {
                continue;
            }
            var slots = new List<SlotRange>();
            foreach (var slot in fields.Skip(8).Where(s => !s.StartsWith('[')))
            {
                var dash = slot.IndexOf('-', StringComparison.Ordinal);
                slots.Add(dash < 0
                    ? new SlotRange(int.Parse(slot, CultureInfo.InvariantCulture), int.Parse(slot, CultureInfo.InvariantCulture))
                    : new SlotRange(int.Parse(slot[..dash], CultureInfo.InvariantCulture), int.Parse(slot[(dash + 1)..], CultureInfo.InvariantCulture)));
            }
            if (slots.Count > 0)
            {
                primaries.Add((fields[1].Split('@')[0], slots));
            }
        }
        return primaries;
    }

    internal static string Field(string info, string name)
        => OptionalField(info, name) ?? throw new FormatException($"INFO has no {name}.");

    private static string? OptionalField(string info, string name)
    {
        foreach (var line in info.Split('\n'))
        {
            if (line.StartsWith(name + ":", StringComparison.Ordinal))
            {
                return line[(name.Length + 1)..].Trim();
            }
        }
        return null;
    }

    private static string EndPointOf(IConnectionMultiplexer redis)
        => redis.GetEndPoints() is [var only] ? EndPointCollection.ToString(only) : "the server";
}
