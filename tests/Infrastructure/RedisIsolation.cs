using System.Globalization;
using StackExchange.Redis;

namespace FlashSale.Tests.Infrastructure;

/// <summary>
/// The one place that decides how a fixture's Redis data is kept apart from everybody else's. Today that is a
/// logical database per fixture; a Redis Cluster has only database 0, so a later change may hand out key
/// prefixes here instead, and the fixtures, which only ever ask this class, stay as they are.
/// </summary>
/// <remarks>
/// Databases: 0 is the dev engine's (dev/up.sh: its relay would drain a test's outbox), 9 the benchmarks', 15 the
/// in-process tests' (<see cref="IngressFactory"/>: no relay runs there and every test makes campaigns of its own,
/// so they share it), 1-8 the pipeline fixtures', one each for as long as the fixture lives.
/// </remarks>
public static class RedisIsolation
{
    public const int InProcessDatabase = 15;

    private static readonly int[] EngineDatabases = [1, 2, 3, 4, 5, 6, 7, 8];

    private static readonly SemaphoreSlim Available = new(EngineDatabases.Length, EngineDatabases.Length);

    private static readonly Lock Gate = new();

    private static readonly HashSet<int> Taken = [];

    /// <summary>The scope every in-process Ingress shares.</summary>
    public static RedisScope InProcess { get; } = new(InProcessDatabase, release: null);

    /// <summary>
    /// A Redis scope of its own for a fixture whose engine processes run a relay, a reconciler or a payment-window
    /// scan (those read everything in their database); emptied before it is handed out, and free again once disposed.
    /// Waits while every scope is taken, and fails after <paramref name="timeout"/> rather than share one.
    /// </summary>
    public static async Task<RedisScope> AcquireAsync(IServer server, TimeSpan? timeout = null)
    {
        var limit = timeout ?? TimeSpan.FromMinutes(5);
        if (!await Available.WaitAsync(limit))
        {
            throw new TimeoutException($"No Redis database for a pipeline fixture came free within {limit.TotalSeconds} s: is a fixture not disposed?");
        }
        int database;
        lock (Gate)
        {
            database = EngineDatabases.First(d => !Taken.Contains(d));
            Taken.Add(database);
        }
        var scope = new RedisScope(database, () =>
        {
            lock (Gate)
            {
                Taken.Remove(database);
            }
            Available.Release();
        });
        var emptied = false;
        try
        {
            await server.FlushDatabaseAsync(database);
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
}

/// <summary>Where one fixture's Redis data lives: hand <see cref="ConnectionString"/> to the engine, use <see cref="Db"/> in the test.</summary>
public sealed class RedisScope : IDisposable
{
    private Action? _release;

    internal RedisScope(int database, Action? release)
    {
        Database = database;
        _release = release;
    }

    public int Database { get; }

    /// <summary>The engine's <c>ConnectionStrings:Redis</c> for a server at <paramref name="endpoint"/>.</summary>
    public string ConnectionString(string endpoint) => $"{endpoint},defaultDatabase={Database.ToString(CultureInfo.InvariantCulture)}";

    public IDatabase Db(IConnectionMultiplexer redis) => redis.GetDatabase(Database);

    public void Dispose() => Interlocked.Exchange(ref _release, null)?.Invoke();
}
