using System.ComponentModel;
using System.Globalization;
using Spectre.Console;
using Spectre.Console.Cli;

namespace FlashSale.KafkaMock;

internal sealed class MockSettings : CommandSettings
{
    private static readonly TopicSpec[] DefaultTopics = [new("flashsale.reservations", 12, 3)];

    [CommandOption("--brokers <N>")]
    [Description("Brokers in the cluster (1..64).")]
    [DefaultValue(3)]
    public int Brokers { get; init; }

    [CommandOption("--topic <TOPIC>")]
    [Description("NAME:PARTITIONS[:REPLICATION]: create or override a topic; repeatable. Default flashsale.reservations:12:3.")]
    public string[] TopicOptions { get; init; } = [];

    [CommandOption("--bootstrap-file <PATH>")]
    [Description("Where to write bootstrap.servers. Default <run>/kafka.bootstrap, <run> being $FLASHSALE_RUN, else .run/ in the repository above the current directory.")]
    public string? BootstrapFileOption { get; init; }

    [CommandOption("--control-url <URL>")]
    [Description("Loopback URL of the control API; port 0 picks a free one.")]
    [DefaultValue("http://127.0.0.1:9644")]
    public string ControlUrlOption { get; init; } = "";

    [CommandOption("--control-file <PATH>")]
    [Description("Where to write the control URL. Default <run>/kafka.control.")]
    public string? ControlFileOption { get; init; }

    // 0, not Kafka's 3000: tests make a group per test, and each would wait 3 s for its first assignment.
    [CommandOption("--group-initial-rebalance-delay-ms <N>")]
    [Description("Wait before a new group's first assignment (Kafka's and the mock's own default is 3000).")]
    [DefaultValue(0)]
    public int GroupInitialRebalanceDelayMs { get; init; }

    [CommandOption("--trim-consumed <GROUP@TOPIC>")]
    [Description("Delete a topic's records once this consumer group has committed past them; repeatable. Default flashsale-persister@flashsale.reservations (the dev Persister's); 'none' keeps every record up to the mock's own 5 MB per partition.")]
    public string[] TrimOptions { get; init; } = [];

    [CommandOption("--trim-interval-ms <N>")]
    [Description("How often --trim-consumed looks at the groups' committed offsets.")]
    [DefaultValue(2000)]
    public int TrimIntervalMs { get; init; }

    /// <summary>What --trim-consumed names, or the dev Persister's group and topic when it was not given.</summary>
    public IReadOnlyList<TrimSpec> Trims => TrimOptions.Length == 0
        ? [new TrimSpec("flashsale-persister", "flashsale.reservations")]
        : [.. TrimOptions.Where(t => t != "none").Select(t => ParseTrim(t)!)];

    /// <summary>The default topics with those given by --topic put over them.</summary>
    public IReadOnlyList<TopicSpec> Topics
    {
        get
        {
            var topics = DefaultTopics.ToDictionary(t => t.Name, StringComparer.Ordinal);
            // Validate has refused any that does not parse.
            foreach (var topic in TopicOptions.Select(t => ParseTopic(t)!))
            {
                topics[topic.Name] = topic;
            }
            return [.. topics.Values];
        }
    }

    public string BootstrapFile => Path.GetFullPath(BootstrapFileOption ?? Path.Combine(RunDirectory(), "kafka.bootstrap"));

    public string ControlFile => Path.GetFullPath(ControlFileOption ?? Path.Combine(RunDirectory(), "kafka.control"));

    public string ControlUrl => $"http://{new Uri(ControlUrlOption).Authority}";

    public override ValidationResult Validate()
    {
        if (Brokers is < 1 or > 64)
        {
            return ValidationResult.Error($"--brokers must be 1..64, not {Brokers}.");
        }
        if (GroupInitialRebalanceDelayMs is < 0 or > 300_000)
        {
            return ValidationResult.Error($"--group-initial-rebalance-delay-ms must be 0..300000, not {GroupInitialRebalanceDelayMs}.");
        }
        if (TopicOptions.FirstOrDefault(t => ParseTopic(t) is null) is { } badTopic)
        {
            return ValidationResult.Error($"--topic wants NAME:PARTITIONS[:REPLICATION] (partitions 1..10000, replication 1..64), not '{badTopic}'.");
        }
        if (TrimIntervalMs is < 100 or > 600_000)
        {
            return ValidationResult.Error($"--trim-interval-ms must be 100..600000, not {TrimIntervalMs}.");
        }
        if (TrimOptions.FirstOrDefault(t => t != "none" && ParseTrim(t) is null) is { } badTrim)
        {
            return ValidationResult.Error($"--trim-consumed wants GROUP@TOPIC or none, not '{badTrim}'.");
        }
        // The control API has no authentication, so it must not be reachable from other machines.
        if (!Uri.TryCreate(ControlUrlOption, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp
            || uri.AbsolutePath != "/" || !(uri.IsLoopback && uri.Host != "0.0.0.0"))
        {
            return ValidationResult.Error(
                $"--control-url must be http://127.0.0.1:PORT, http://localhost:PORT or http://[::1]:PORT, not '{ControlUrlOption}'.");
        }
        return ValidationResult.Success();
    }

    private static TopicSpec? ParseTopic(string text)
    {
        var parts = text.Split(':');
        if (parts.Length is < 2 or > 3 || parts[0].Length == 0 || Number(parts[1], 10_000) is not { } partitions)
        {
            return null;
        }
        if (parts.Length == 2)
        {
            return new TopicSpec(parts[0], partitions, 3);
        }
        return Number(parts[2], 64) is { } replication ? new TopicSpec(parts[0], partitions, replication) : null;
    }

    private static TrimSpec? ParseTrim(string text)
    {
        var at = text.LastIndexOf('@');
        return at > 0 && at < text.Length - 1 ? new TrimSpec(text[..at], text[(at + 1)..]) : null;
    }

    private static int? Number(string text, int max)
        => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1 && n <= max ? n : null;

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
