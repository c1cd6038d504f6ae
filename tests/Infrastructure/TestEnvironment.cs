using System.Globalization;

namespace FlashSale.Tests.Infrastructure;

/// <summary>
/// Where the real services are: the ones <c>dev/test.sh</c> starts (see dev/env.sh), overridable
/// with the same environment variables. The tests use their own databases (flashsale_test_*).
/// </summary>
public static class TestEnvironment
{
    public static int RedisPort => Port("FLASHSALE_REDIS_PORT", 6380);

    public static int MySqlPort => Port("FLASHSALE_MYSQL_PORT", 3307);

    public static string MySqlPassword => Environment.GetEnvironmentVariable("FLASHSALE_MYSQL_PASSWORD") ?? "flashsale-dev-only";

    /// <summary>Whether the tests run on one Redis server or on the 3-master Redis Cluster (FLASHSALE_REDIS_MODE, as dev/env.sh).</summary>
    public static bool IsCluster => Environment.GetEnvironmentVariable("FLASHSALE_REDIS_MODE") == "cluster";

    /// <summary>
    /// The engine's ConnectionStrings:Redis: the server, or every master of the cluster (the port and the next two),
    /// as dev/env.sh's <c>redis_connection</c> writes it.
    /// </summary>
    public static string Redis => IsCluster
        ? string.Join(",", Enumerable.Range(RedisPort, 3).Select(p => $"127.0.0.1:{p}"))
        : $"127.0.0.1:{RedisPort}";

    public static string MySql(string database)
        => $"Server=127.0.0.1;Port={MySqlPort};User ID=flashsale;Password={MySqlPassword};Database={database};Maximum Pool Size=200";

    /// <summary>Test-only key; never a real one.</summary>
    public const string SigningKey = "TEST-ONLY-flashsale-signing-key-0123456789abcdef";

    private static int Port(string name, int fallback)
        => int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.None, CultureInfo.InvariantCulture, out var port) ? port : fallback;
}
