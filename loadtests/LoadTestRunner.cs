using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using FlashSale.LoadTests.Cli;
using FlashSale.LoadTests.EngineApi;
using FlashSale.LoadTests.Load;
using FlashSale.LoadTests.Measurement;
using FlashSale.LoadTests.Reporting;
using FlashSale.LoadTests.Scenarios;
using FlashSale.LoadTests.Verification;

namespace FlashSale.LoadTests;

/// <summary>One run: set the sale up, drive the load, settle unknown outcomes, check the invariants, report.</summary>
public static class LoadTestRunner
{
    /// <summary>The campaign stays open well past the run, so the resolving replays and the checks still find it on sale.</summary>
    private static readonly TimeSpan CampaignTail = TimeSpan.FromHours(1);

    public static async Task<int> RunAsync(LoadTestOptions options, CancellationToken interrupt)
    {
        var scenario = ScenarioCatalog.Find(options.Scenario)!.Create(options);
        var tokens = BuyerTokens.FromEnvironment(out var usingDevelopmentKey);
        using var engine = new EngineClient(options.Url, options.EffectiveConnections, options.Timeout, tokens);

        SaleUnderTest sale;
        var buyers = scenario.Buyers.ToList();
        TimeSpan tokenPreparation;
        try
        {
            var readiness = await engine.ReadinessAsync(interrupt);
            if (readiness != "Healthy")
            {
                Console.Error.WriteLine($"error: the Ingress at {options.Url} is not ready: {readiness}");
                return ExitCodes.SetupFailed;
            }

            // Random, not time-based: two engineers starting runs in the same second must not share a campaign.
            var campaignId = "lt-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
            var now = DateTime.UtcNow;
            // Opened a minute ago so a clock a little behind ours (Redis's, another host's) still sees it started.
            sale = await scenario.SetUpAsync(
                new SaleSetup(campaignId, now.AddMinutes(-1), now + options.Duration + CampaignTail, engine), interrupt);
            Console.Error.WriteLine($"Campaign {sale.CampaignId} created and warmed: "
                + string.Join(", ", sale.Skus.Select(s => $"SKU {s.SkuId} stock {s.Stock}")));

            var minting = Stopwatch.StartNew();
            tokens.Prepare(buyers, interrupt);
            tokenPreparation = minting.Elapsed;
            Console.Error.WriteLine($"Minted {buyers.Count:N0} buyer tokens in {tokenPreparation.TotalSeconds:0.0} s.");
        }
        catch (Exception ex) when (ex is SetupException or HttpRequestException)
        {
            Console.Error.WriteLine($"error: {ex.Message}");
            return ExitCodes.SetupFailed;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("Interrupted before the load started.");
            return ExitCodes.SetupFailed;
        }

        var stats = new LoadStats();
        ILoadModel model = options.IsOpenModel
            ? new OpenModel(options.Rate!.Value, options.MaxInFlight, options.Timeout)
            : new ClosedModel(options.Concurrency);
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Running {scenario.Name}, {model.Description}, for {options.Duration.TotalSeconds:0.###} s against {options.Url} (seed {options.Seed})."));

        var loadAverage = MachineLoad.Read();
        if (loadAverage is not null)
        {
            Console.Error.WriteLine($"Machine load average before the run: {loadAverage} on {Environment.ProcessorCount} processors.");
        }

        using var run = new LoadRun(scenario, engine, stats, interrupt);
        var startedUtc = DateTime.UtcNow;
        var start = Stopwatch.GetTimestamp();
        using var progressStop = new CancellationTokenSource();
        var progress = ProgressPrinter.RunAsync(stats, start, progressStop.Token);
        await model.RunAsync(run, start, options.Duration);
        var elapsed = Stopwatch.GetElapsedTime(start);
        await progressStop.CancelAsync();
        await progress;
        Console.Error.WriteLine(ProgressPrinter.Format(stats, stats.Sample(elapsed)));

        if (run.Failure is not null)
        {
            Console.Error.WriteLine($"error: the harness failed during the run, its numbers are not valid: {run.Failure}");
            return ExitCodes.SetupFailed;
        }

        // Settling and checking run to the end even after Ctrl+C: a second Ctrl+C ends the process.
        var resolution = await UnknownOutcomes.ResolveAsync(engine, stats, CancellationToken.None);
        IReadOnlyList<CreatedOrder> orders = [.. stats.Created, .. resolution.Reserved];
        IReadOnlyList<InvariantResult> invariants;
        try
        {
            invariants = await Invariants.CheckAsync(engine, sale, orders, resolution.StillUnknown, CancellationToken.None);
        }
        catch (Exception ex) when (ex is SetupException or HttpRequestException)
        {
            invariants = [new InvariantResult("stock conservation", false, $"could not read the SKU back: {ex.Message}")];
        }

        var summary = new RunSummary(
            options, model.Description, sale, startedUtc, elapsed, tokenPreparation, buyers.Count, usingDevelopmentKey,
            interrupt.IsCancellationRequested, stats, resolution, invariants, loadAverage);
        Report.PrintConsole(summary, Console.Out);
        var path = await Report.WriteAsync(summary, options.ResultsDirectory ?? DefaultResultsDirectory(), CancellationToken.None);
        Console.Out.WriteLine();
        Console.Out.WriteLine($"Report: {path}");
        return summary.Passed ? ExitCodes.Ok : ExitCodes.InvariantFailed;
    }

    /// <summary>loadtests/results beside the project file (git-ignored), found from the build output; else ./loadtests-results.</summary>
    private static string DefaultResultsDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "LoadTests.csproj")))
            {
                return Path.Combine(dir.FullName, "results");
            }
        }
        return Path.Combine(Environment.CurrentDirectory, "loadtests-results");
    }
}
