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
    /// The Redis logical database the benchmarks write to. Database 0 belongs to the dev engine, whose
    /// outbox relay drains every SKU listed in <c>fs:live-skus</c>: a benchmark there would feed its SKUs to that relay,
    /// and its order reads would look into the bench SKU's ledger for the dev engine's buyers (ids from 1).
    /// </summary>
    public const int RedisDatabase = 9;

    public static string Redis => $"127.0.0.1:{Port("FLASHSALE_REDIS_PORT", 6380)},defaultDatabase={RedisDatabase}";

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
