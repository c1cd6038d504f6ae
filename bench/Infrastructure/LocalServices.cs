using System.Globalization;
using Dapper;
using MySqlConnector;

namespace FlashSale.Bench.Infrastructure;

/// <summary>
/// Where the local Redis and MariaDB of <c>dev/services.sh</c> listen. The same FLASHSALE_* variables
/// as <c>dev/env.sh</c> move them, so a benchmark run follows the services wherever they were started.
/// </summary>
public static class LocalServices
{
    // DEVELOPMENT ONLY: the throwaway user that dev/services.sh creates on a developer machine or CI runner.
    private const string DevUser = "flashsale";
    private const string DevPassword = "flashsale-dev-only";

    /// <summary>
    /// The key prefix (the engine's <c>Redis:KeyPrefix</c>) the benchmarks write under. Unprefixed keys belong to the dev
    /// engine, whose outbox relay drains every SKU listed in <c>fs:live-skus</c>: a benchmark there would feed its SKUs to
    /// that relay, and its order reads would look into the bench SKU's ledger for the dev engine's buyers (ids from 1).
    /// A prefix rather than a logical database: a Redis Cluster has database 0 only.
    /// </summary>
    public const string RedisKeyPrefix = "bench:";

    /// <summary>
    /// The Redis of dev/services.sh: FLASHSALE_REDIS_PORT, and with FLASHSALE_REDIS_MODE=cluster the next two ports too
    /// (the cluster's masters; StackExchange.Redis would find them from one).
    /// </summary>
    public static string Redis
    {
        get
        {
            var port = Port("FLASHSALE_REDIS_PORT", 6380);
            var ports = Environment.GetEnvironmentVariable("FLASHSALE_REDIS_MODE") == "cluster" ? [port, port + 1, port + 2] : new[] { port };
            return string.Join(",", ports.Select(p => $"127.0.0.1:{p}"));
        }
    }

    /// <summary>A MariaDB connection string for <paramref name="database"/> (empty: no default database).</summary>
    public static string MariaDb(string database, uint? maxPoolSize = null)
    {
        var builder = new MySqlConnectionStringBuilder
        {
            Server = "127.0.0.1",
            Port = Port("FLASHSALE_MYSQL_PORT", 3307),
            UserID = Environment.GetEnvironmentVariable("FLASHSALE_MYSQL_USER") ?? DevUser,
            Password = Environment.GetEnvironmentVariable("FLASHSALE_MYSQL_PASSWORD") ?? DevPassword,
            Database = database,
        };
        if (maxPoolSize is { } size)
        {
            builder.MaximumPoolSize = size;
            builder.MinimumPoolSize = size;
        }
        return builder.ConnectionString;
    }

    /// <summary>Throws unless MariaDB commits durably (<c>innodb_flush_log_at_trx_commit = 1</c>).</summary>
    /// <remarks>
    /// A relaxed fsync would make every row-at-a-time baseline fast by making it lose committed rows on a
    /// crash: the comparisons here are against a database that keeps what it acknowledged.
    /// </remarks>
    public static async Task RequireDurableMariaDbAsync(CancellationToken cancellationToken = default)
    {
        await using var server = new MySqlConnection(MariaDb(""));
        await server.OpenAsync(cancellationToken);
        var flush = await server.ExecuteScalarAsync<int>(new CommandDefinition(
            "SELECT @@innodb_flush_log_at_trx_commit", cancellationToken: cancellationToken));
        if (flush != 1)
        {
            throw new InvalidOperationException($"innodb_flush_log_at_trx_commit is {flush}; the baselines need durable commits (1).");
        }
    }

    private static uint Port(string variable, uint fallback)
        => Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value
            ? uint.Parse(value, CultureInfo.InvariantCulture)
            : fallback;
}
