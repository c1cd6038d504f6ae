using System.Globalization;

namespace FlashSale.KafkaMock;

internal sealed record MockOptions(
    int Brokers,
    IReadOnlyList<TopicSpec> Topics,
    string BootstrapFile,
    string ControlFile,
    string ControlUrl,
    int GroupInitialRebalanceDelayMs)
{
    public const string Usage = """
        Usage: FlashSale.KafkaMock [options]
          --brokers N                 brokers in the cluster (default 3)
          --topic NAME:PARTITIONS[:REPLICATION]
                                      create or override a topic; repeatable
                                      (default flashsale.reservations:12:3)
          --bootstrap-file PATH       where to write bootstrap.servers (default <run>/kafka.bootstrap)
          --control-url URL           loopback URL of the control API (default http://127.0.0.1:9644;
                                      port 0 picks a free one)
          --control-file PATH         where to write the control URL (default <run>/kafka.control)
          --group-initial-rebalance-delay-ms N
                                      wait before a new group's first assignment (default 0;
                                      Kafka's and the mock's own default is 3000)
        <run> is $FLASHSALE_RUN, else .run/ in the repository above the current directory.
        """;

    private static readonly TopicSpec[] DefaultTopics = [new("flashsale.reservations", 12, 3)];

    /// <exception cref="FormatException">The arguments are not usable; the message says why.</exception>
    public static MockOptions Parse(IReadOnlyList<string> args)
    {
        var brokers = 3;
        var topics = DefaultTopics.ToDictionary(t => t.Name, StringComparer.Ordinal);
        string? bootstrapFile = null;
        string? controlFile = null;
        var controlUrl = "http://127.0.0.1:9644";
        // 0, not Kafka's 3000: tests make a group per test, and each would wait 3 s for its first assignment.
        var rebalanceDelay = 0;

        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            string Value() => i + 1 < args.Count ? args[++i] : throw new FormatException($"{name} needs a value.");
            switch (name)
            {
                case "--brokers":
                    brokers = Number(Value(), name, min: 1, max: 64);
                    break;
                case "--topic":
                    var topic = Topic(Value());
                    topics[topic.Name] = topic;
                    break;
                case "--bootstrap-file":
                    bootstrapFile = Path.GetFullPath(Value());
                    break;
                case "--control-file":
                    controlFile = Path.GetFullPath(Value());
                    break;
                case "--control-url":
                    controlUrl = LoopbackUrl(Value());
                    break;
                case "--group-initial-rebalance-delay-ms":
                    rebalanceDelay = Number(Value(), name, min: 0, max: 300_000);
                    break;
                default:
                    throw new FormatException($"Unknown option '{name}'.");
            }
        }

        var run = RunDirectory();
        return new MockOptions(
            brokers,
            [.. topics.Values],
            bootstrapFile ?? Path.Combine(run, "kafka.bootstrap"),
            controlFile ?? Path.Combine(run, "kafka.control"),
            controlUrl,
            rebalanceDelay);
    }

    private static TopicSpec Topic(string text)
    {
        var parts = text.Split(':');
        if (parts.Length is < 2 or > 3 || parts[0].Length == 0)
        {
            throw new FormatException($"--topic wants NAME:PARTITIONS[:REPLICATION], not '{text}'.");
        }

        var partitions = Number(parts[1], "--topic partitions", min: 1, max: 10_000);
        var replication = parts.Length == 3 ? Number(parts[2], "--topic replication", min: 1, max: 64) : 3;
        return new TopicSpec(parts[0], partitions, replication);
    }

    // The control API has no authentication, so it must not be reachable from other machines.
    private static string LoopbackUrl(string text)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp
            || uri.AbsolutePath != "/" || !(uri.IsLoopback && uri.Host != "0.0.0.0"))
        {
            throw new FormatException($"--control-url must be http://127.0.0.1:PORT, http://localhost:PORT or http://[::1]:PORT, not '{text}'.");
        }

        return $"http://{uri.Authority}";
    }

    private static int Number(string text, string what, int min, int max)
        => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? n
            : throw new FormatException($"{what} must be {min}..{max}, not '{text}'.");

    private static string RunDirectory()
    {
        var configured = Environment.GetEnvironmentVariable("FLASHSALE_RUN");
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return Path.GetFullPath(configured);
        }

        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "FlashSale.sln")))
                {
                    return Path.Combine(directory.FullName, ".run");
                }
            }
        }

        return Path.Combine(Directory.GetCurrentDirectory(), ".run");
    }
}
