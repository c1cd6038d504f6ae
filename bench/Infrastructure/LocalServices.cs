using System.Globalization;
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

    public static string Redis => $"127.0.0.1:{Port("FLASHSALE_REDIS_PORT", 6380)}";

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

    private static uint Port(string variable, uint fallback)
        => Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value
            ? uint.Parse(value, CultureInfo.InvariantCulture)
            : fallback;
}
