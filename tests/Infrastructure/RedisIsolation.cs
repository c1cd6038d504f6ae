using StackExchange.Redis;
using StackExchange.Redis.KeyspaceIsolation;

namespace FlashSale.Tests.Infrastructure;

/// <summary>
/// The one place that decides how a fixture's Redis data is kept apart from everybody else's: a key prefix
/// (the engine's <c>Redis:KeyPrefix</c>) per fixture, on database 0. A Redis Cluster has only database 0, so the
/// same scopes serve the single server and the cluster (<c>FLASHSALE_REDIS_MODE</c>); the fixtures only ever ask
/// this class.
/// </summary>
/// <remarks>
/// No prefix is the dev engine's (dev/up.sh: its relay would drain a test's outbox), <c>bench:</c> the benchmarks',
/// <c>test:in:</c> the in-process tests' (<see cref="IngressFactory"/>: no relay runs there and every test makes
/// campaigns of its own, so they share it), <c>test:e1:</c> to <c>test:e8:</c> the pipeline fixtures', one each for as
/// long as the fixture lives. The prefixes have no braces, so a SKU's keys keep their hash tag and their one slot.
/// The stock channel (pub/sub) is not prefixed: every Ingress hears every SKU's signal and drops a cached sold-out
/// answer for a campaign it may not have; harmless.
/// </remarks>
public static class RedisIsolation
{
    public const string InProcessPrefix = "test:in:";

    private static readonly string[] EnginePrefixes = [.. Enumerable.Range(1, 8).Select(i => $"test:e{i}:")];

    private static readonly SemaphoreSlim Available = new(EnginePrefixes.Length, EnginePrefixes.Length);

    private static readonly Lock Gate = new();

    private static readonly HashSet<string> Taken = [];

    /// <summary>The scope every in-process Ingress shares.</summary>
    public static RedisScope InProcess { get; } = new(InProcessPrefix, release: null);

    /// <summary>
    /// A Redis scope of its own for a fixture whose engine processes run a relay, a reconciler or a payment-window
    /// scan (those read everything under their prefix); emptied before it is handed out, and free again once disposed.
    /// Waits while every scope is taken, and fails after <paramref name="timeout"/> rather than share one.
    /// </summary>
    /// <param name="redis">A connection with admin rights (SCAN on every primary).</param>
    public static async Task<RedisScope> AcquireAsync(IConnectionMultiplexer redis, TimeSpan? timeout = null)
    {
        var limit = timeout ?? TimeSpan.FromMinutes(5);
        if (!await Available.WaitAsync(limit))
        {
            throw new TimeoutException($"No Redis scope for a pipeline fixture came free within {limit.TotalSeconds} s: is a fixture not disposed?");
        }
        string prefix;
        lock (Gate)
        {
            prefix = EnginePrefixes.First(p => !Taken.Contains(p));
            Taken.Add(prefix);
        }
        var scope = new RedisScope(prefix, () =>
        {
            lock (Gate)
            {
                Taken.Remove(prefix);
            }
            Available.Release();
        });
        var emptied = false;
        try
        {
            await scope.EmptyAsync(redis);
            emptied = true;
            return scope;
        }
        finally
        {
            if (!emptied)
            {
                scope.Dispose();
            }
        }
    }

    /// <summary>The primaries of the connection: the server, or every master of a cluster.</summary>
    public static IEnumerable<IServer> Primaries(IConnectionMultiplexer redis)
        => redis.GetServers().Where(s => s.IsConnected && !s.IsReplica);
}

/// <summary>
/// Where one fixture's Redis data lives: start the engine with <see cref="Settings"/>, use <see cref="Db"/> in the test
/// (it sees the keys as the engine names them, without the prefix).
/// </summary>
public sealed class RedisScope : IDisposable
{
    private Action? _release;

    internal RedisScope(string keyPrefix, Action? release)
    {
        KeyPrefix = keyPrefix;
        _release = release;
    }

    public string KeyPrefix { get; }

    /// <summary>The engine's settings (environment variables) for Redis at <paramref name="connectionString"/> within this scope.</summary>
    public IEnumerable<(string Key, string Value)> Settings(string connectionString)
        => [("ConnectionStrings__Redis", connectionString), ("Redis__KeyPrefix", KeyPrefix)];

    public IDatabase Db(IConnectionMultiplexer redis) => redis.GetDatabase().WithKeyPrefix(KeyPrefix);

    /// <summary>Deletes every key under the prefix, on every primary (SCAN, then UNLINK key by key: a cluster refuses cross-slot UNLINKs).</summary>
    public async Task EmptyAsync(IConnectionMultiplexer redis)
    {
        var db = redis.GetDatabase();
        foreach (var server in RedisIsolation.Primaries(redis))
        {
            var batch = new List<Task>();
            await foreach (var key in server.KeysAsync(pattern: KeyPrefix + "*", pageSize: 1_000))
            {
                batch.Add(db.ExecuteAsync("UNLINK", key));
                if (batch.Count == 1_000)
                {
                    await Task.WhenAll(batch);
                    batch.Clear();
                }
            }
            await Task.WhenAll(batch);
        }
    }

    public void Dispose() => Interlocked.Exchange(ref _release, null)?.Invoke();
}
