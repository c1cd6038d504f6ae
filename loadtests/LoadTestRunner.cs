using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using FlashSale.LoadTests.Baseline;
using FlashSale.LoadTests.Cli;
using FlashSale.LoadTests.EngineApi;
using FlashSale.LoadTests.Load;
using FlashSale.LoadTests.Measurement;
using FlashSale.LoadTests.Pipeline;
using FlashSale.LoadTests.Reporting;
using FlashSale.LoadTests.Scenarios;
using FlashSale.LoadTests.Verification;

namespace FlashSale.LoadTests;

/// <summary>One run: set the sale up, drive the load, settle unknown outcomes, check the invariants, report.</summary>
public static class LoadTestRunner
{
    /// <summary>The campaign stays open well past the run, so the resolving replays and the checks still find it on sale.</summary>
    private static readonly TimeSpan CampaignTail = TimeSpan.FromHours(1);

    public static async Task<int> RunAsync(LoadTestOptions options, IScenario scenario, CancellationToken interrupt)
    {
        try
        {
            return await RunScenarioAsync(options, scenario, interrupt);
        }
        finally
        {
            // A scenario may run something beside the load (full-sale samples the SKU); it ends with the run, however that ends.
            if (scenario is IAsyncDisposable disposable)
            {
                await disposable.DisposeAsync();
            }
        }
    }

    private static async Task<int> RunScenarioAsync(LoadTestOptions options, IScenario scenario, CancellationToken interrupt)
    {
        var tokens = BuyerTokens.FromEnvironment(out var usingDevelopmentKey);
        var payments = PaymentSigner.FromEnvironment(out var usingDevelopmentSecret);
        using var engine = new EngineClient(
            options.Targets, options.EffectiveConnections, options.Timeout, tokens, payments, rawReservations: !options.HttpClientForReservations)
        {
            CampaignRateLimits = options.CampaignRateLimits(),
        };
        // The lag probe and the drain read orders over a pool of their own: they must neither wait for
        // the load's connections (all busy in the closed model) nor take them.
        using var observer = new EngineClient(options.Primary, PipelineDrain.Parallelism, options.Timeout, tokens);

        SaleUnderTest sale;
        DateTime saleCreatedUtc;
        var buyers = scenario.Buyers.ToList();
        TimeSpan tokenPreparation;
        try
        {
            foreach (var target in options.Targets)
            {
                using var probe = new EngineClient(target, 1, options.Timeout, tokens);
                var readiness = await probe.ReadinessAsync(interrupt);
                if (readiness != "Healthy")
                {
                    Console.Error.WriteLine($"error: the Ingress at {target} is not ready: {readiness}");
                    return ExitCodes.SetupFailed;
                }
            }

            // Random, not time-based: two engineers starting runs in the same second must not share a campaign.
            var campaignId = "lt-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
            var now = DateTime.UtcNow;
            saleCreatedUtc = now;
            // Opened a minute ago so a clock a little behind ours (Redis's, another host's) still sees it started.
            var selling = TimeSpan.FromTicks(scenario.Waves(options.Duration).Sum(w => w.Ticks));
            sale = await scenario.SetUpAsync(
                new SaleSetup(campaignId, now.AddMinutes(-1), now + selling + CampaignTail, engine, observer), interrupt);
            Console.Error.WriteLine($"Campaign {sale.CampaignId} created and warmed: " + (sale.Skus.Count <= Invariants.MaxSkusListed
                ? string.Join(", ", sale.Skus.Select(s => $"SKU {s.SkuId} stock {s.Stock}"))
                : string.Create(CultureInfo.InvariantCulture, $"{sale.Skus.Count:N0} SKUs, {sale.Skus.Sum(s => (long)s.Stock):N0} units in all")));

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

        var waves = scenario.Waves(options.Duration);
        BaselineReport? baseline = null;
        if (options.Baseline)
        {
            try
            {
                baseline = await BaselineRun.RunAsync(
                    options, scenario, tokens, sale, NewModel(options), TimeSpan.FromTicks(waves.Sum(w => w.Ticks)), Console.Error, interrupt);
            }
            catch (Exception ex) when (ex is BaselineException or HttpRequestException)
            {
                Console.Error.WriteLine($"error: the constant endpoint could not be measured: {ex.Message}");
                return ExitCodes.SetupFailed;
            }
        }

        var loadLength = TimeSpan.FromTicks(waves.Sum(w => w.Ticks));
        var stats = new LoadStats { Windows = options.Window is { } window ? new WindowStats(window, loadLength) : null };
        var resources = options.Window is { } sampleEvery
            ? new ResourceSampler(
                IngressProcess.Locate(options.Primary, options.IngressPid, RunDirectory()), ParseRedis(options.Redis), stats, sampleEvery)
            : null;
        var model = scenario.Model ?? NewModel(options);
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Running {scenario.Name}, {model.Description}, for {string.Join(" + ", waves.Select(w => $"{w.TotalSeconds:0.###} s"))} against {string.Join(", ", options.Targets)} (seed {options.Seed})."));

        var loadAverage = MachineLoad.Read();
        if (loadAverage is not null)
        {
            Console.Error.WriteLine($"Machine load average before the run: {loadAverage} on {Environment.ProcessorCount} processors.");
        }

        using var lag = options.LagSamplesPerSecond > 0
            ? new PersistenceLagProbe(observer, options.LagSamplesPerSecond, options.LagPollInterval, options.LagTimeout)
            : null;
        using var run = new LoadRun(scenario, engine, stats, lag, interrupt);
        if (resources is not null)
        {
            Console.Error.WriteLine($"Sampling every {resources.Window.TotalSeconds:0.###} s: Ingress memory ({resources.Ingress.Description}), Redis used_memory at {resources.Redis}.");
            await resources.SampleAsync(ResourceSampler.StartLabel, TimeSpan.Zero);
        }
        var startedUtc = DateTime.UtcNow;
        var start = Stopwatch.GetTimestamp();
        var spans = new List<WaveSpan>();
        for (var wave = 0; wave < waves.Count && !interrupt.IsCancellationRequested; wave++)
        {
            run.BeginWave(wave);
            var waveStart = Stopwatch.GetTimestamp();
            var waveOffset = TimeSpan.FromTicks(waves.Take(wave).Sum(w => w.Ticks));
            stats.Windows?.BeginWave(waveStart, waveOffset);
            if (waves.Count > 1)
            {
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Wave {wave + 1} of {waves.Count}: {waves[wave].TotalSeconds:0.###} s of reservations."));
            }
            using (var progressStop = new CancellationTokenSource())
            {
                var progress = ProgressPrinter.RunAsync(stats, start, progressStop.Token);
                var sampling = resources?.RunAsync(waveStart, waveOffset, waves[wave], progressStop.Token) ?? Task.CompletedTask;
                await model.RunAsync(run, waveStart, waves[wave]);
                await progressStop.CancelAsync();
                await progress;
                await sampling;
            }
            var waveEnd = Stopwatch.GetTimestamp();
            Console.Error.WriteLine(ProgressPrinter.Format(stats, stats.Sample(Stopwatch.GetElapsedTime(start, waveEnd))));
            // The wave is under load from its start until its last reservation was answered; follow-ups may go on a little longer.
            var lastAnswer = run.LastReservationAnswer;
            spans.Add(new WaveSpan(wave, Stopwatch.GetElapsedTime(start, waveStart),
                Stopwatch.GetElapsedTime(waveStart, lastAnswer > waveStart ? lastAnswer : waveEnd), Stopwatch.GetElapsedTime(waveStart, waveEnd)));

            if (run.Failure is not null)
            {
                Console.Error.WriteLine($"error: the harness failed during the run, its numbers are not valid: {run.Failure}");
                return ExitCodes.SetupFailed;
            }
            if (wave < waves.Count - 1 && !interrupt.IsCancellationRequested)
            {
                await scenario.SettleAsync(new SettleContext(wave, IsLast: false, null, observer, Console.Error), CancellationToken.None);
            }
        }
        var ended = Stopwatch.GetTimestamp();
        var elapsed = Stopwatch.GetElapsedTime(start, ended);
        if (resources is not null)
        {
            await resources.SampleAsync(ResourceSampler.EndLabel, loadLength);
        }

        // Settling and checking run to the end even after Ctrl+C: a second Ctrl+C ends the process.
        var resolution = await UnknownOutcomes.ResolveAsync(engine, stats, CancellationToken.None);
        await scenario.SettleAsync(new SettleContext(spans.Count - 1, IsLast: true, resolution, observer, Console.Error), CancellationToken.None);
        var orders = Invariants.Reservations(stats.Created, resolution);
        var invariants = new List<InvariantResult>();
        try
        {
            invariants.AddRange(await Invariants.CheckAsync(engine, sale, orders, resolution.StillUnknown, scenario.ReleasedUnits, CancellationToken.None));
        }
        catch (Exception ex) when (ex is SetupException or HttpRequestException)
        {
            invariants.Add(new InvariantResult("stock conservation", false, $"could not read the SKU back: {ex.Message}"));
        }

        LagReport? lagReport = null;
        DrainReport? drain = null;
        try
        {
            if (lag is not null)
            {
                lagReport = await lag.FinishAsync(start, Console.Error);
                invariants.Add(lagReport.ToInvariant());
            }
            if (options.DrainMax > 0)
            {
                drain = await PipelineDrain.RunAsync(
                    observer, sale, saleCreatedUtc, ended, orders, resolution.StillUnknown, options.DrainMax, options.DrainTimeout, options.Seed,
                    Console.Error, CancellationToken.None);
                invariants.AddRange(drain.ToInvariants(sale));
            }
        }
        catch (InvalidOperationException ex)
        {
            Console.Error.WriteLine($"error: the harness failed while following orders into MySQL, its numbers are not valid: {ex}");
            return ExitCodes.SetupFailed;
        }
        if (resources is not null)
        {
            // Once the pipeline has drained, the relay has settled the run's outbox entries: what Redis keeps for good.
            await resources.SampleAsync(ResourceSampler.DrainedLabel, null);
        }
        invariants.AddRange(await LedgerCheck.CheckAsync(observer, sale, CancellationToken.None));
        invariants.AddRange(scenario.Verify(sale, orders, resolution));

        var summary = new RunSummary(
            options, model.Description, sale, startedUtc, elapsed, tokenPreparation, buyers.Count, usingDevelopmentKey,
            interrupt.IsCancellationRequested, stats, resolution, invariants, loadAverage, lagReport, drain, scenario.Notes)
        {
            Waves = spans,
            UsingDevelopmentSecret = usingDevelopmentSecret,
            FollowUpsAbandoned = run.FollowUps.Abandoned,
            Sections = scenario.Sections,
            Baseline = baseline,
            Resources = resources,
            PerTarget = engine.ReservationsPerTarget,
        };
        Report.PrintConsole(summary, Console.Out);
        var folder = await Report.WriteAsync(summary, options.ResultsDirectory ?? DefaultResultsDirectory(), CancellationToken.None);
        Console.Out.WriteLine();
        Console.Out.WriteLine($"Report: {Path.Combine(folder, Report.MarkdownFile)}");
        Console.Out.WriteLine($"        {Path.Combine(folder, Report.HtmlFile)}");
        return summary.Passed ? ExitCodes.Ok : ExitCodes.InvariantFailed;
    }

    private static ILoadModel NewModel(LoadTestOptions options) => options.IsOpenModel
        ? new OpenModel(options.Rate!.Value, options.MaxInFlight, options.Timeout)
        : new ClosedModel(options.Concurrency);

    private static RedisServers ParseRedis(string text)
        => RedisServers.TryParse(text, out var servers) ? servers : throw new ArgumentException($"--redis '{text}' is not host:port[,host:port...].");

    /// <summary>Where dev/up.sh keeps its pid files: $FLASHSALE_RUN, else .run/ in the repository the harness was built in; null when neither is known.</summary>
    private static string? RunDirectory()
    {
        if (Environment.GetEnvironmentVariable("FLASHSALE_RUN") is { Length: > 0 } run)
        {
            return run;
        }
        return ProjectDirectory()?.Parent?.FullName is { } repository ? Path.Combine(repository, ".run") : null;
    }

    private static DirectoryInfo? ProjectDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "LoadTests.csproj")))
            {
                return dir;
            }
        }
        return null;
    }

    /// <summary>loadtests/results beside the project file (git-ignored), found from the build output; else ./loadtests-results.</summary>
    private static string DefaultResultsDirectory()
        => ProjectDirectory() is { } project ? Path.Combine(project.FullName, "results") : Path.Combine(Environment.CurrentDirectory, "loadtests-results");
}
