using System.Globalization;
using System.Text;
using FlashSale.Engine.Campaigns;
using FlashSale.LoadTests.Scenarios;
using FlashSale.LoadTests.Scenarios.FullSale;

namespace FlashSale.LoadTests.Cli;

/// <summary>What the command line asked for: a run, the help text, or a usage error.</summary>
public sealed record ParsedCommandLine(LoadTestOptions? Options, bool ShowHelp, string? Error);

/// <summary>
/// A hand-rolled parser: one positional scenario name and <c>--name value</c> (or <c>--name=value</c>)
/// options. Small enough that a parsing library would be more to learn than to read.
/// </summary>
public static class CommandLine
{
    public static ParsedCommandLine Parse(IReadOnlyList<string> args)
    {
        if (args.Count == 0 || args.Any(a => a is "-h" or "--help" or "help"))
        {
            return new(null, ShowHelp: true, null);
        }

        string? scenario = null;
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                if (scenario is not null)
                {
                    return Fail($"Unexpected argument '{arg}': give one scenario, then --options.");
                }
                scenario = arg;
                continue;
            }

            var name = arg[2..];
            string value;
            var equals = name.IndexOf('=', StringComparison.Ordinal);
            if (equals >= 0)
            {
                value = name[(equals + 1)..];
                name = name[..equals];
            }
            else if (Flags.Contains(name))
            {
                value = "true";
            }
            else if (i + 1 < args.Count)
            {
                value = args[++i];
            }
            else
            {
                return Fail($"--{name} needs a value.");
            }
            if (!Known.Contains(name))
            {
                return Fail($"Unknown option --{name}.");
            }
            if (!values.TryAdd(name, value))
            {
                return Fail($"--{name} is given twice.");
            }
        }

        if (scenario is null)
        {
            return Fail("Name a scenario: " + string.Join(", ", ScenarioCatalog.All.Select(s => s.Name)) + ".");
        }
        if (ScenarioCatalog.Find(scenario) is null)
        {
            return Fail($"Unknown scenario '{scenario}'. Scenarios: " + string.Join(", ", ScenarioCatalog.All.Select(s => s.Name)) + ".");
        }

        try
        {
            return new(Build(scenario, values), ShowHelp: false, null);
        }
        catch (FormatException ex)
        {
            return Fail(ex.Message);
        }
    }

    private static readonly HashSet<string> Known =
    [
        "url", "buyers", "stock", "rate", "concurrency", "duration", "max-in-flight", "connections", "timeout", "seed", "out",
        "skus", "skew", "keys-per-buyer", "lag-samples", "lag-timeout", "lag-poll", "drain-timeout", "drain-max",
        "pay-share", "cancel-share", "duplicate-callbacks", "payment-window", "think-time", "second-wave", "settle-timeout", "baseline",
    ];

    /// <summary>Options that take no value.</summary>
    private static readonly HashSet<string> Flags = ["baseline"];

    /// <summary>Options that only mean something to one scenario: given to another, they are a mistake worth saying.</summary>
    private static readonly Dictionary<string, string> ScenarioOnly = new(StringComparer.Ordinal)
    {
        ["skus"] = ManySkusScenario.ScenarioName,
        ["skew"] = ManySkusScenario.ScenarioName,
        ["keys-per-buyer"] = ReplayStormScenario.ScenarioName,
        ["pay-share"] = FullSaleScenario.ScenarioName,
        ["cancel-share"] = FullSaleScenario.ScenarioName,
        ["duplicate-callbacks"] = FullSaleScenario.ScenarioName,
        ["payment-window"] = FullSaleScenario.ScenarioName,
        ["think-time"] = FullSaleScenario.ScenarioName,
        ["second-wave"] = FullSaleScenario.ScenarioName,
        ["settle-timeout"] = FullSaleScenario.ScenarioName,
    };

    private static LoadTestOptions Build(string scenario, Dictionary<string, string> values)
    {
        if (values.ContainsKey("rate") && values.ContainsKey("concurrency"))
        {
            throw new FormatException("Choose one model: --rate (open) or --concurrency (closed), not both.");
        }
        if (!values.ContainsKey("rate") && values.ContainsKey("max-in-flight"))
        {
            throw new FormatException("--max-in-flight only applies to the open model (--rate).");
        }
        foreach (var (option, owner) in ScenarioOnly)
        {
            if (values.ContainsKey(option) && scenario != owner)
            {
                throw new FormatException($"--{option} only applies to the {owner} scenario.");
            }
        }

        var url = values.TryGetValue("url", out var u)
            ? u
            : Environment.GetEnvironmentVariable("FLASHSALE_INGRESS_URL") is { Length: > 0 } fromEnv ? fromEnv : LoadTestOptions.DefaultUrl;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            throw new FormatException($"--url '{url}' is not an absolute http(s) URL.");
        }

        var options = new LoadTestOptions
        {
            Scenario = scenario,
            Url = uri,
            Buyers = Optional(values, "buyers", v => PositiveInt("buyers", v)),
            Stock = Optional(values, "stock", v => PositiveInt("stock", v)),
            Rate = Optional(values, "rate", v => PositiveDouble("rate", v)),
            Concurrency = Optional(values, "concurrency", v => PositiveInt("concurrency", v)) ?? LoadTestOptions.DefaultConcurrency,
            Duration = Optional(values, "duration", v => Duration("duration", v)) ?? TimeSpan.FromSeconds(10),
            MaxInFlight = Optional(values, "max-in-flight", v => PositiveInt("max-in-flight", v)) ?? LoadTestOptions.DefaultMaxInFlight,
            Connections = Optional(values, "connections", v => PositiveInt("connections", v)),
            Timeout = Optional(values, "timeout", v => Duration("timeout", v)) ?? TimeSpan.FromSeconds(10),
            Seed = Optional(values, "seed", v => ulong.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var s)
                ? s
                : throw new FormatException($"--seed '{v}' is not a non-negative whole number.")) ?? (ulong)Random.Shared.NextInt64(),
            ResultsDirectory = values.GetValueOrDefault("out"),
            Skus = Optional(values, "skus", v => PositiveInt("skus", v)),
            Skew = Optional(values, "skew", v => NonNegativeDouble("skew", v)) ?? 0,
            KeysPerBuyer = Optional(values, "keys-per-buyer", v => PositiveInt("keys-per-buyer", v)),
            LagSamplesPerSecond = Optional(values, "lag-samples", v => NonNegativeInt("lag-samples", v)) ?? LoadTestOptions.DefaultLagSamplesPerSecond,
            LagTimeout = Optional(values, "lag-timeout", v => Duration("lag-timeout", v)) ?? TimeSpan.FromSeconds(30),
            LagPollInterval = Optional(values, "lag-poll", v => Duration("lag-poll", v)) ?? TimeSpan.FromMilliseconds(20),
            DrainTimeout = Optional(values, "drain-timeout", v => Duration("drain-timeout", v)) ?? TimeSpan.FromSeconds(60),
            DrainMax = Optional(values, "drain-max", v => NonNegativeInt("drain-max", v)) ?? LoadTestOptions.DefaultDrainMax,
            PayShare = Optional(values, "pay-share", v => Share("pay-share", v)),
            CancelShare = Optional(values, "cancel-share", v => Share("cancel-share", v)),
            DuplicateShare = Optional(values, "duplicate-callbacks", v => Share("duplicate-callbacks", v)),
            PaymentWindowSeconds = Optional(values, "payment-window", v => (int)Math.Round(Duration("payment-window", v).TotalSeconds)),
            ThinkTime = Optional(values, "think-time", v => Duration("think-time", v)),
            SecondWave = Optional(values, "second-wave", v => Duration("second-wave", v)),
            SettleTimeout = Optional(values, "settle-timeout", v => Duration("settle-timeout", v)),
            Baseline = values.TryGetValue("baseline", out var baseline) && (baseline == "true"
                ? true
                : throw new FormatException("--baseline takes no value.")),
        };
        if (options.PaymentWindowSeconds is < CampaignValidator.MinPaymentWindowSeconds or > CampaignValidator.MaxPaymentWindowSeconds)
        {
            throw new FormatException(
                $"--payment-window must be between {CampaignValidator.MinPaymentWindowSeconds} s and {CampaignValidator.MaxPaymentWindowSeconds} s (what the admin API accepts).");
        }
        var payShare = options.PayShare ?? FullSaleScenario.DefaultPayShare;
        var cancelShare = options.CancelShare ?? FullSaleScenario.DefaultCancelShare;
        if (payShare + cancelShare > 1)
        {
            throw new FormatException($"--pay-share {payShare} and --cancel-share {cancelShare} add up to more than 1.");
        }
        if (payShare >= 1)
        {
            throw new FormatException("--pay-share 1 leaves nothing to cancel or time out: the full sale is about units coming back.");
        }
        if (options.Skus > CampaignValidator.MaxSkus)
        {
            throw new FormatException($"--skus {options.Skus} is more than a campaign may hold ({CampaignValidator.MaxSkus}).");
        }
        return options;
    }

    /// <summary>Durations like <c>500ms</c>, <c>30s</c>, <c>2m</c>, <c>1h</c>, a bare number of seconds, or <c>hh:mm:ss</c>.</summary>
    public static TimeSpan Duration(string name, string text)
    {
        var (number, unit) = text switch
        {
            _ when text.EndsWith("ms", StringComparison.Ordinal) => (text[..^2], 0.001),
            _ when text.EndsWith('s') => (text[..^1], 1.0),
            _ when text.EndsWith('m') => (text[..^1], 60.0),
            _ when text.EndsWith('h') => (text[..^1], 3600.0),
            _ => (text, 1.0),
        };
        if (double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value) && value > 0)
        {
            return TimeSpan.FromSeconds(value * unit);
        }
        if (TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span) && span > TimeSpan.Zero)
        {
            return span;
        }
        throw new FormatException($"--{name} '{text}' is not a duration such as 500ms, 30s, 2m or 00:01:30.");
    }

    private static T? Optional<T>(Dictionary<string, string> values, string name, Func<string, T> parse) where T : struct
        => values.TryGetValue(name, out var text) ? parse(text) : null;

    private static int PositiveInt(string name, string text)
        => int.TryParse(text.Replace("_", "", StringComparison.Ordinal), NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0
            ? value
            : throw new FormatException($"--{name} '{text}' is not a positive whole number.");

    private static int NonNegativeInt(string name, string text)
        => int.TryParse(text.Replace("_", "", StringComparison.Ordinal), NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new FormatException($"--{name} '{text}' is not a whole number (0 or more).");

    private static double NonNegativeDouble(string name, string text)
        => double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new FormatException($"--{name} '{text}' is not a number (0 or more).");

    private static double Share(string name, string text)
        => double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value) && value <= 1
            ? value
            : throw new FormatException($"--{name} '{text}' is not a share between 0 and 1.");

    private static double PositiveDouble(string name, string text)
        => double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value) && value > 0
            ? value
            : throw new FormatException($"--{name} '{text}' is not a positive number.");

    private static ParsedCommandLine Fail(string error) => new(null, ShowHelp: false, error);

    public static string HelpText()
    {
        var text = new StringBuilder()
            .AppendLine("FlashSale load tests: rehearse a sale against a running Ingress.")
            .AppendLine()
            .AppendLine("Usage: dotnet run -c Release --project loadtests -- <scenario> [options]")
            .AppendLine()
            .AppendLine("Scenarios:");
        foreach (var scenario in ScenarioCatalog.All)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  {scenario.Name,-16}{scenario.Summary}");
        }
        return text.AppendLine()
            .AppendLine("Load model (choose one; both stop by themselves after --duration):")
            .AppendLine("  --rate <n>            Open model: n requests per second at fixed intended start times.")
            .AppendLine("                        Latency counts from the intended start (coordinated omission corrected).")
            .AppendLine("  --max-in-flight <n>   Open model: cap on requests in flight; a request that finds the cap")
            .AppendLine($"                        full waits and is counted as late. Default {LoadTestOptions.DefaultMaxInFlight}.")
            .AppendLine("  --concurrency <n>     Closed model: n workers, each sends its next request when the last")
            .AppendLine($"                        one is answered. Default when --rate is absent: {LoadTestOptions.DefaultConcurrency}.")
            .AppendLine()
            .AppendLine("Options:")
            .AppendLine($"  --url <url>           The Ingress. Default $FLASHSALE_INGRESS_URL, else {LoadTestOptions.DefaultUrl}.")
            .AppendLine("  --duration <d>        How long to send: 500ms, 30s, 2m, 00:01:30. Default 10s.")
            .AppendLine("  --buyers <n>          Size of the buyer-id pool the requests draw from. Default per scenario.")
            .AppendLine("  --stock <n>           Units on sale. Default per scenario.")
            .AppendLine("  --connections <n>     Max HTTP connections. Default: --max-in-flight (open) or --concurrency (closed).")
            .AppendLine("  --timeout <d>         Per-request timeout. Default 10s.")
            .AppendLine("  --seed <n>            Seed of the buyer draws, to repeat a run. Default random (printed).")
            .AppendLine("  --out <dir>           Results folder. Default loadtests/results.")
            .AppendLine("  --baseline            First run the same load against a constant endpoint (a child process,")
            .AppendLine("                        loadtests/BaselineServer), then against the engine; report both and the ratio.")
            .AppendLine("  -h, --help            This text.")
            .AppendLine()
            .AppendLine("Scenario options:")
            .AppendLine($"  --skus <n>            many-skus: SKUs in the campaign (--stock is per SKU). Default {ManySkusScenario.DefaultSkus}.")
            .AppendLine("  --skew <s>            many-skus: Zipf exponent of the SKU draw (SKU k gets weight 1/k^s).")
            .AppendLine("                        0 spreads traffic evenly; 1 is a classic long tail. Default 0.")
            .AppendLine($"  --keys-per-buyer <n>  replay-storm: Idempotency-Keys each buyer owns and resends. Default {ReplayStormScenario.DefaultKeysPerBuyer}.")
            .AppendLine(CultureInfo.InvariantCulture, $"  --pay-share <s>       full-sale: share of the first wave's orders that are paid. Default {FullSaleScenario.DefaultPayShare}.")
            .AppendLine(CultureInfo.InvariantCulture, $"  --cancel-share <s>    full-sale: share the buyer cancels; the rest time out. Default {FullSaleScenario.DefaultCancelShare}.")
            .AppendLine(CultureInfo.InvariantCulture, $"  --duplicate-callbacks <s>  full-sale: share of payments the provider sends twice. Default {FullSaleScenario.DefaultDuplicateShare}.")
            .AppendLine($"  --payment-window <d>  full-sale: the campaign's payment window. Default {FullSaleScenario.DefaultPaymentWindowSeconds}s, the shortest allowed.")
            .AppendLine($"  --think-time <d>      full-sale: buyers pay or cancel within this after their 201. Default {FullSaleScenario.DefaultThinkTime.TotalSeconds:0}s.")
            .AppendLine("  --second-wave <d>     full-sale: how long the second wave (after the timeouts) sends. Default --duration.")
            .AppendLine($"  --settle-timeout <d>  full-sale: wait at most this past the last payment deadline. Default {FullSaleScenario.DefaultSettleTimeout.TotalSeconds:0}s.")
            .AppendLine()
            .AppendLine("Durable pipeline (Redis outbox -> Kafka -> MySQL):")
            .AppendLine("  --lag-samples <n>     Follow at most n 201s per second until GET /api/v1/orders/{no} says")
            .AppendLine($"                        persisted; 0 turns the lag probe off. Default {LoadTestOptions.DefaultLagSamplesPerSecond}.")
            .AppendLine("  --lag-timeout <d>     A sampled order not persisted within this fails the run. Default 30s.")
            .AppendLine("  --lag-poll <d>        Pause between reads of one sampled order (the lag's resolution). Default 20ms.")
            .AppendLine("  --drain-timeout <d>   After the run, how long to wait for every success to be persisted. Default 60s.")
            .AppendLine("  --drain-max <n>       Read back at most n successes after the run (a random sample of them")
            .AppendLine($"                        beyond that); 0 skips the drain check. Default {LoadTestOptions.DefaultDrainMax}.")
            .AppendLine()
            .AppendLine("Environment:")
            .AppendLine("  FLASHSALE_SIGNING_KEY  The Ingress's Auth:SigningKey; tokens are minted with it.")
            .AppendLine("                         Default: the development key of Ingress/appsettings.Development.json.")
            .AppendLine("  FLASHSALE_PAYMENT_SECRET  The Ingress's Payments:CallbackSecret; full-sale signs callbacks with it.")
            .AppendLine("                         Default: the development secret of Ingress/appsettings.Development.json.")
            .AppendLine()
            .AppendLine("Exit codes: 0 all invariants passed, 1 an invariant failed, 2 usage error, 3 setup failed.")
            .ToString();
    }
}
