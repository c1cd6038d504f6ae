using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using FlashSale.LoadTests.Cli;
using FlashSale.LoadTests.EngineApi;
using FlashSale.LoadTests.Load;
using FlashSale.LoadTests.Scenarios;
using Spectre.Console;
using Spectre.Console.Cli;

namespace FlashSale.LoadTests.Baseline;

public sealed class ClientOverheadOptions : LoadTestOptions
{
    [CommandOption("--constant-url <URL>")]
    [Description("A constant endpoint already running (loadtests/BaselineServer, e.g. the one loadtests/wrk/client-overhead.sh measures with wrk). Default: start one as a child process.")]
    public Uri? ConstantUrl { get; init; }

    public override ValidationResult Validate() => base.Validate() is { Successful: false } failed ? failed : Check(
        (ConstantUrl is null || (ConstantUrl.IsAbsoluteUri && ConstantUrl.Scheme is "http" or "https"), "--constant-url must be an absolute http(s) URL."));
}

/// <summary>
/// The harness measuring only itself: its client against the constant endpoint, nothing of the engine. Every
/// answer is the same 201, so what limits the rate is the two processes sharing the machine; the harness's
/// CPU per answer says how much of the machine its own client takes, whatever the neighbours do.
/// </summary>
public sealed class ClientOverheadCommand : AsyncCommand<ClientOverheadOptions>
{
    public const string Name = "client-overhead";
    public const string Description = "The harness's own client against the constant endpoint alone (no engine): answers/s, p50/p99 and the harness's CPU per answer.";

    public override async Task<int> ExecuteAsync(CommandContext context, ClientOverheadOptions settings, CancellationToken cancellationToken)
    {
        var tokens = BuyerTokens.FromEnvironment(out _);
        var scenario = new ConstantScenario(settings.Buyers ?? ConstantScenario.DefaultBuyers);
        tokens.Prepare(scenario.Buyers, cancellationToken);
        ILoadModel model = settings.IsOpenModel
            ? new OpenModel(settings.Rate!.Value, settings.MaxInFlight, settings.Timeout)
            : new ClosedModel(settings.Concurrency);
        try
        {
            ConstantPass pass;
            if (settings.ConstantUrl is { } url)
            {
                pass = await BaselineRun.MeasureAsync(url, settings, scenario, tokens, model, settings.Duration, Console.Error, cancellationToken);
            }
            else
            {
                await using var server = await BaselineServerProcess.StartAsync(stock: null, tokens, cancellationToken);
                Console.Error.WriteLine($"Constant endpoint at {server.Url} (a child process): {server.Description}");
                pass = await BaselineRun.MeasureAsync(server.Url, settings, scenario, tokens, model, settings.Duration, Console.Error, cancellationToken);
            }
            var answered = pass.Stats.Completed;
            var latency = pass.Stats.OverallLatency();
            var rate = answered / pass.LoadTime.TotalSeconds;
            var created = pass.Stats.Count(Outcome.Created);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"harness  {model.Description}, {settings.EffectiveConnections} connections: {rate:N0} answers/s, p50 {latency.P50:0.00} ms, p99 {latency.P99:0.00} ms, "
                + $"{created:N0} of {answered:N0} answers 201, harness CPU {pass.HarnessCpu.TotalMicroseconds / Math.Max(1, answered):0.0} µs and "
                + $"{pass.HarnessAllocatedBytes / Math.Max(1, answered):N0} bytes allocated per answer, {pass.HarnessCollections} collections"));
            // For scripts (loadtests/wrk/client-overhead.sh), beside wrk's WRK_RESULT line.
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"HARNESS_RESULT answers={answered} rps={rate:0.0} p50_ms={latency.P50:0.00} p99_ms={latency.P99:0.00} cpu_us={pass.HarnessCpu.TotalMicroseconds / Math.Max(1, answered):0.0} alloc_bytes={pass.HarnessAllocatedBytes / Math.Max(1, answered)} gcs={pass.HarnessCollections}"));
            return created == answered && answered > 0 ? ExitCodes.Ok : ExitCodes.InvariantFailed;
        }
        catch (Exception ex) when (ex is BaselineException or HttpRequestException)
        {
            Console.Error.WriteLine($"error: {ex.Message}");
            return ExitCodes.SetupFailed;
        }
    }

    /// <summary>Distinct buyers in turn, a new Idempotency-Key per request, on the route of one SKU: every answer a 201.</summary>
    private sealed class ConstantScenario(int buyers) : IScenario
    {
        public const int DefaultBuyers = 1_000;
        private readonly string _campaignId = "lt-client-" + Stopwatch.GetTimestamp().ToString("x", CultureInfo.InvariantCulture);

        public string Name => ClientOverheadCommand.Name;

        public IEnumerable<long> Buyers => Enumerable.Range(1, buyers).Select(i => (long)i);

        public Task<SaleUnderTest> SetUpAsync(SaleSetup setup, CancellationToken cancellationToken)
            => throw new NotSupportedException("The constant endpoint needs no sale.");

        public ReserveRequest Next(long sequence)
            => new(_campaignId, 1, 1 + (sequence % buyers), string.Create(CultureInfo.InvariantCulture, $"c-{sequence}"), 1);
    }
}
