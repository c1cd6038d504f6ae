using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using FlashSale.Contracts;
using FlashSale.Engine.Campaigns;
using FlashSale.LoadTests.EngineApi;
using FlashSale.LoadTests.Measurement;
using FlashSale.LoadTests.Scenarios;
using FlashSale.LoadTests.Scenarios.FullSale;
using Spectre.Console;
using Spectre.Console.Cli;

namespace FlashSale.LoadTests.Cli;

/// <summary>
/// One run's settings, the options every scenario takes. <see cref="Rate"/> selects the open model,
/// otherwise <see cref="Concurrency"/> workers loop (closed model). Null sizes mean "the scenario's default".
/// </summary>
public class LoadTestOptions : CommandSettings
{
    public const string DefaultUrl = "http://127.0.0.1:5080";
    public const int DefaultConcurrency = 32;
    public const int DefaultMaxInFlight = 1000;
    public const int DefaultLagSamplesPerSecond = 20;
    public const int DefaultDrainMax = 20_000;

    /// <summary>The command's name: set by the command, not an option.</summary>
    public string Scenario { get; set; } = "";

    [CommandOption("--url <URL>")]
    [Description("The Ingress. Default $FLASHSALE_INGRESS_URL, else " + DefaultUrl + ".")]
    public Uri Url { get; init; } = new(Environment.GetEnvironmentVariable("FLASHSALE_INGRESS_URL") is { Length: > 0 } url ? url : DefaultUrl);

    [CommandOption("--target <URL>")]
    [Description("An Ingress the buyers' requests go to; repeat it for several (dev/up.sh --ingress N prints their URLs). Each buyer always talks to the same one "
        + "(buyer id modulo their number, like a load balancer that keeps a buyer on one instance), payment callbacks are spread by order number; "
        + "the campaign's set-up, the lag probe, the drain and the checks use the first. Default: --url alone.")]
    public string[] Target { get; init; } = [];

    /// <summary>The Ingresses the load goes to: every --target, or --url.</summary>
    public IReadOnlyList<Uri> Targets => Target.Length > 0 ? [.. Target.Select(t => new Uri(t))] : [Url];

    /// <summary>The Ingress for set-up and checks: the first target.</summary>
    public Uri Primary => Targets[0];

    [CommandOption("--buyers <N>")]
    [Description("Size of the buyer-id pool the requests draw from. Default per scenario.")]
    public int? Buyers { get; init; }

    [CommandOption("--stock <N>")]
    [Description("Units on sale (per SKU in many-skus). Default per scenario.")]
    public int? Stock { get; init; }

    [CommandOption("--rate <N>")]
    [Description("Open model: N requests per second at fixed intended start times. Latency counts from the intended start (coordinated omission corrected).")]
    public double? Rate { get; init; }

    [CommandOption("--concurrency <N>")]
    [Description("Closed model: N workers, each sends its next request when the last one is answered. Default when --rate is absent: 32.")]
    public int? ConcurrencyOption { get; init; }

    [CommandOption("--duration <D>")]
    [Description("How long to send: 500ms, 30s, 2m, 00:01:30.")]
    [TypeConverter(typeof(DurationConverter))]
    [DefaultValue("10s")]
    public TimeSpan Duration { get; init; }

    [CommandOption("--max-in-flight <N>")]
    [Description("Open model: cap on requests in flight; a request that finds the cap full waits and is counted as late. Default 1000.")]
    public int? MaxInFlightOption { get; init; }

    [CommandOption("--connections <N>")]
    [Description("Max HTTP connections. Default: --max-in-flight (open) or --concurrency (closed).")]
    public int? Connections { get; init; }

    [CommandOption("--http-client")]
    [Description("Send reservations through .NET's HttpClient instead of the harness's own HTTP/1.1 client (which allocates a quarter and spends about a fifth less CPU per request; https always uses HttpClient).")]
    public bool HttpClientForReservations { get; init; }

    [CommandOption("--timeout <D>")]
    [Description("Per-request timeout.")]
    [TypeConverter(typeof(DurationConverter))]
    [DefaultValue("10s")]
    public TimeSpan Timeout { get; init; }

    [CommandOption("--seed <N>")]
    [Description("Seed of the buyer (and SKU, key, drain sample) draws, to repeat a run. Default random (printed).")]
    public ulong Seed { get; init; } = (ulong)Random.Shared.NextInt64();

    [CommandOption("--out <DIR>")]
    [Description("Results folder. Default loadtests/results.")]
    public string? ResultsDirectory { get; init; }

    [CommandOption("--baseline")]
    [Description("First run the same load against a constant endpoint (a child process, loadtests/BaselineServer), then against the engine; report both and the ratio.")]
    public bool Baseline { get; init; }

    [CommandOption("--lag-samples <N>")]
    [Description("Follow at most N 201s per second until GET /api/v1/orders/{no} says persisted; 0 turns the lag probe off.")]
    [DefaultValue(DefaultLagSamplesPerSecond)]
    public int LagSamplesPerSecond { get; init; }

    [CommandOption("--lag-timeout <D>")]
    [Description("A sampled order not persisted within this fails the run.")]
    [TypeConverter(typeof(DurationConverter))]
    [DefaultValue("30s")]
    public TimeSpan LagTimeout { get; init; }

    [CommandOption("--lag-poll <D>")]
    [Description("Pause between reads of one sampled order (the lag's resolution).")]
    [TypeConverter(typeof(DurationConverter))]
    [DefaultValue("20ms")]
    public TimeSpan LagPollInterval { get; init; }

    [CommandOption("--drain-timeout <D>")]
    [Description("After the run, how long to wait for every success to be persisted.")]
    [TypeConverter(typeof(DurationConverter))]
    [DefaultValue("60s")]
    public TimeSpan DrainTimeout { get; init; }

    [CommandOption("--window <D>")]
    [Description("Split the run into consecutive windows of this length by each request's intended start (e.g. 60s): answers/s and latency per window, "
        + "and the Ingress's resident memory and Redis's used_memory sampled at each window's end. At most 100 windows.")]
    [TypeConverter(typeof(DurationConverter))]
    public TimeSpan? Window { get; init; }

    [CommandOption("--ingress-pid <PID>")]
    [Description("With --window: the Ingress process whose resident memory is sampled. Default: the one $FLASHSALE_RUN/ingress.pid names "
        + "(.run/ under the repository), if it listens on --url's port, else the process that does.")]
    public int? IngressPid { get; init; }

    [CommandOption("--redis <HOST:PORT>")]
    [Description("With --window: the engine's Redis, whose INFO memory is sampled; several host:port separated by commas (every master of a Redis Cluster) are added up. "
        + "Default 127.0.0.1:$FLASHSALE_REDIS_PORT (else 6380), with FLASHSALE_REDIS_MODE=cluster also the next two ports, as dev/env.sh.")]
    public string Redis { get; init; } = DefaultRedis();

    private static string DefaultRedis()
    {
        var port = Environment.GetEnvironmentVariable("FLASHSALE_REDIS_PORT") is { Length: > 0 } text
            && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var p) ? p : 6380;
        var ports = Environment.GetEnvironmentVariable("FLASHSALE_REDIS_MODE") == "cluster" ? [port, port + 1, port + 2] : new[] { port };
        return string.Join(",", ports.Select(n => string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{n}")));
    }

    [CommandOption("--drain-max <N>")]
    [Description("Read back at most N successes after the run (a random sample of them beyond that); 0 skips the drain check.")]
    [DefaultValue(DefaultDrainMax)]
    public int DrainMax { get; init; }

    [CommandOption("--rate-limits <LIMITS>")]
    [Description("The rate limits of the campaign the run creates: off (default: a sale test, not a limits test; the Ingress-wide cap on requests in flight "
        + "still applies), deployment (the Ingress's RateLimits:*), or a JSON rateLimits object, e.g. '{\"perBuyer\":{\"permitsPerSecond\":10,\"burst\":20}}'.")]
    [DefaultValue("off")]
    public string RateLimits { get; init; } = "off";

    /// <summary>The campaign's <c>rateLimits</c> from <see cref="RateLimits"/>; null: the deployment's.</summary>
    public CampaignRateLimitsBody? CampaignRateLimits() => RateLimits switch
    {
        "off" => new CampaignRateLimitsBody(new RateLimitBody(0), new RateLimitBody(0)),
        "deployment" => null,
        _ => JsonSerializer.Deserialize(RateLimits, LoadTestJson.Default.CampaignRateLimitsBody),
    };

    public bool IsOpenModel => Rate is not null;

    public int Concurrency => ConcurrencyOption ?? DefaultConcurrency;

    public int MaxInFlight => MaxInFlightOption ?? DefaultMaxInFlight;

    public int EffectiveConnections => Connections ?? (IsOpenModel ? MaxInFlight : Concurrency);

    public override ValidationResult Validate()
    {
        if (Rate is not null && ConcurrencyOption is not null)
        {
            return ValidationResult.Error("Choose one model: --rate (open) or --concurrency (closed), not both.");
        }
        if (Rate is null && MaxInFlightOption is not null)
        {
            return ValidationResult.Error("--max-in-flight only applies to the open model (--rate).");
        }
        if (!Url.IsAbsoluteUri || Url.Scheme is not ("http" or "https"))
        {
            return ValidationResult.Error($"--url '{Url}' is not an absolute http(s) URL.");
        }
        if (RateLimits is not ("off" or "deployment"))
        {
            try
            {
                _ = CampaignRateLimits();
            }
            catch (JsonException ex)
            {
                return ValidationResult.Error($"--rate-limits is off, deployment or a JSON rateLimits object: {ex.Message}");
            }
        }
        foreach (var target in Target)
        {
            if (!Uri.TryCreate(target, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                return ValidationResult.Error($"--target '{target}' is not an absolute http(s) URL.");
            }
        }
        if (Target.Distinct(StringComparer.OrdinalIgnoreCase).Count() != Target.Length)
        {
            return ValidationResult.Error("--target names the same Ingress twice.");
        }
        return Check(
            (Buyers is null or > 0, "--buyers must be a positive whole number."),
            (Stock is null or > 0, "--stock must be a positive whole number."),
            (Rate is null or > 0, "--rate must be a positive number."),
            (Concurrency > 0, "--concurrency must be a positive whole number."),
            (MaxInFlight > 0, "--max-in-flight must be a positive whole number."),
            (Connections is null or > 0, "--connections must be a positive whole number."),
            (LagSamplesPerSecond >= 0, "--lag-samples must be 0 or more."),
            (Window is null || Math.Ceiling(Duration / Window.Value) <= WindowStats.MaxWindows,
                $"--window {Window?.TotalSeconds:0.###} s cuts --duration into more than {WindowStats.MaxWindows} windows: take a longer window."),
            (IngressPid is null or > 0, "--ingress-pid must be a process id."),
            (RedisServers.TryParse(Redis, out _), $"--redis '{Redis}' is not host:port[,host:port...]."),
            (DrainMax >= 0, "--drain-max must be 0 or more."));
    }

    /// <summary>The first failed check's message, else success.</summary>
    protected static ValidationResult Check(params (bool Ok, string Error)[] checks)
        => checks.FirstOrDefault(c => !c.Ok) is { Error: { } error } ? ValidationResult.Error(error) : ValidationResult.Success();
}

public sealed class HotSkuOptions : LoadTestOptions
{
    [CommandOption("--buyers-in-turn")]
    [Description("Take buyers in turn (1, 2, 3, ...) instead of at random: with --buyers at least the requests sent, every request is a new buyer "
        + "and the per-buyer limit never refuses (a soak that must answer 201 throughout).")]
    public bool BuyersInTurn { get; init; }
}

public sealed class ManySkusOptions : LoadTestOptions
{
    [CommandOption("--skus <N>")]
    [Description("SKUs in the campaign (--stock is per SKU).")]
    [DefaultValue(ManySkusScenario.DefaultSkus)]
    public int Skus { get; init; }

    [CommandOption("--skew <S>")]
    [Description("Zipf exponent of the SKU draw (SKU k gets weight 1/k^s): 0 spreads traffic evenly, 1 is a classic long tail.")]
    public double Skew { get; init; }

    public override ValidationResult Validate() => base.Validate() is { Successful: false } failed ? failed : Check(
        (Skus is > 0 and <= CampaignValidator.MaxSkus, $"--skus must be between 1 and {CampaignValidator.MaxSkus} (what a campaign may hold)."),
        (Skew >= 0, "--skew must be 0 or more."));
}

public sealed class ReplayStormOptions : LoadTestOptions
{
    [CommandOption("--keys-per-buyer <N>")]
    [Description("Idempotency-Keys each buyer owns and resends.")]
    [DefaultValue(ReplayStormScenario.DefaultKeysPerBuyer)]
    public int KeysPerBuyer { get; init; }

    public override ValidationResult Validate() => base.Validate() is { Successful: false } failed ? failed
        : Check((KeysPerBuyer > 0, "--keys-per-buyer must be a positive whole number."));
}

public sealed class FullSaleOptions : LoadTestOptions
{
    [CommandOption("--pay-share <S>")]
    [Description("Share of the first wave's orders that are paid (below 1: something must come back).")]
    [DefaultValue(FullSaleScenario.DefaultPayShare)]
    public double PayShare { get; init; }

    [CommandOption("--cancel-share <S>")]
    [Description("Share of the first wave's orders their buyer cancels; the rest time out.")]
    [DefaultValue(FullSaleScenario.DefaultCancelShare)]
    public double CancelShare { get; init; }

    [CommandOption("--duplicate-callbacks <S>")]
    [Description("Share of payments whose callback the provider sends twice.")]
    [DefaultValue(FullSaleScenario.DefaultDuplicateShare)]
    public double DuplicateShare { get; init; }

    [CommandOption("--payment-window <D>")]
    [Description("The campaign's payment window (30 s to 7 days, as the admin API accepts).")]
    [TypeConverter(typeof(DurationConverter))]
    [DefaultValue("30s")]
    public TimeSpan PaymentWindow { get; init; }

    [CommandOption("--think-time <D>")]
    [Description("Buyers pay or cancel between a quarter of this and all of it after their 201.")]
    [TypeConverter(typeof(DurationConverter))]
    [DefaultValue("1s")]
    public TimeSpan ThinkTime { get; init; }

    [CommandOption("--second-wave <D>")]
    [Description("How long the second wave (after the timeouts) sends. Default --duration.")]
    [TypeConverter(typeof(DurationConverter))]
    public TimeSpan? SecondWave { get; init; }

    [CommandOption("--coupon-share <S>")]
    [Description("Share of the reservation attempts that take the sale's coupon (2.00 off, one per buyer); 0: no coupon pool.")]
    [DefaultValue(FullSaleScenario.DefaultCouponShare)]
    public double CouponShare { get; init; }

    [CommandOption("--coupons <N>")]
    [Description("Coupons in the sale's pool. Default a quarter of the stock.")]
    public int? Coupons { get; init; }

    [CommandOption("--settle-timeout <D>")]
    [Description("Wait at most this past the last payment deadline for the timeout scan.")]
    [TypeConverter(typeof(DurationConverter))]
    [DefaultValue("60s")]
    public TimeSpan SettleTimeout { get; init; }

    public int PaymentWindowSeconds => (int)Math.Round(PaymentWindow.TotalSeconds);

    public override ValidationResult Validate() => base.Validate() is { Successful: false } failed ? failed : Check(
        (PayShare is >= 0 and <= 1 && CancelShare is >= 0 and <= 1 && DuplicateShare is >= 0 and <= 1, "--pay-share, --cancel-share and --duplicate-callbacks are shares between 0 and 1."),
        (PayShare + CancelShare <= 1, $"--pay-share {PayShare} and --cancel-share {CancelShare} add up to more than 1."),
        (CouponShare is >= 0 and <= 1, "--coupon-share is a share between 0 and 1."),
        (Coupons is null or (>= 0 and <= CampaignValidator.MaxStock), $"--coupons is between 0 and {CampaignValidator.MaxStock}."),
        (PayShare < 1, "--pay-share 1 leaves nothing to cancel or time out: the full sale is about units coming back."),
        (PaymentWindowSeconds is >= CampaignValidator.MinPaymentWindowSeconds and <= CampaignValidator.MaxPaymentWindowSeconds,
            $"--payment-window must be between {CampaignValidator.MinPaymentWindowSeconds} s and {CampaignValidator.MaxPaymentWindowSeconds} s (what the admin API accepts)."));
}

public sealed class WaitingRoomOptions : LoadTestOptions
{
    [CommandOption("--admit-factor <F>")]
    [Description("The waiting room's admitFactor: admitted-but-unused tokens never exceed it times the units still available (1-100).")]
    [DefaultValue("1.5")]
    public decimal AdmitFactor { get; init; }

    [CommandOption("--token-seconds <N>")]
    [Description("How long an admission token is valid (5-3600 s).")]
    [DefaultValue(WaitingRoomScenario.DefaultTokenSeconds)]
    public int TokenSeconds { get; init; }

    [CommandOption("--lead <D>")]
    [Description("How long before the sale starts the campaign is created: the crowd's tokens are minted and everyone joins meanwhile.")]
    [TypeConverter(typeof(DurationConverter))]
    [DefaultValue("10s")]
    public TimeSpan Lead { get; init; }

    public override ValidationResult Validate() => base.Validate() is { Successful: false } failed ? failed : Check(
        (Rate is null, "waiting-room drives its own traffic (join, poll, reserve when admitted): --rate does not apply; --concurrency bounds the joins in flight."),
        (!Baseline, "waiting-room has no constant-endpoint baseline."),
        (AdmitFactor is >= CampaignValidator.MinAdmitFactor and <= CampaignValidator.MaxAdmitFactor, "--admit-factor must be between 1 and 100."),
        (TokenSeconds is >= CampaignValidator.MinTokenSeconds and <= CampaignValidator.MaxTokenSeconds, "--token-seconds must be between 5 and 3600."),
        (Lead > TimeSpan.Zero, "--lead must be positive."));
}

/// <summary>Durations like <c>500ms</c>, <c>30s</c>, <c>2m</c>, <c>1h</c>, a bare number of seconds, or <c>hh:mm:ss</c>.</summary>
public sealed class DurationConverter : TypeConverter
{
    public override bool CanConvertFrom(ITypeDescriptorContext? context, Type sourceType) => sourceType == typeof(string);

    public override object ConvertFrom(ITypeDescriptorContext? context, CultureInfo? culture, object value)
    {
        var text = (string)value;
        var (number, unit) = text switch
        {
            _ when text.EndsWith("ms", StringComparison.Ordinal) => (text[..^2], 0.001),
            _ when text.EndsWith('s') => (text[..^1], 1.0),
            _ when text.EndsWith('m') => (text[..^1], 60.0),
            _ when text.EndsWith('h') => (text[..^1], 3600.0),
            _ => (text, 1.0),
        };
        if (double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount) && amount > 0)
        {
            return TimeSpan.FromSeconds(amount * unit);
        }
        if (TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span) && span > TimeSpan.Zero)
        {
            return span;
        }
        throw new FormatException($"'{text}' is not a duration such as 500ms, 30s, 2m or 00:01:30.");
    }
}
