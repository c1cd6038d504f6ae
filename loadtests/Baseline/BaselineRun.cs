using System.Diagnostics;
using System.Globalization;
using FlashSale.LoadTests.Cli;
using FlashSale.LoadTests.EngineApi;
using FlashSale.LoadTests.Load;
using FlashSale.LoadTests.Measurement;
using FlashSale.LoadTests.Scenarios;

namespace FlashSale.LoadTests.Baseline;

/// <summary>What the constant endpoint did under the same load model and request stream as the engine.</summary>
/// <param name="LoadTime">From the first request to the last answer.</param>
/// <param name="WarmUp">How long the warm-up ran before its throughput stopped rising, and the rate it reached.</param>
public sealed record BaselineReport(
    LoadStats Stats, TimeSpan LoadTime, TimeSpan Duration, string ModelDescription, string Server, int? Stock, TimeSpan WarmUp, double WarmUpRate);

/// <summary>
/// The side-by-side pass of <c>--baseline</c>: the same load model, sending the same scenario's requests
/// (the same sequence numbers, so the same buyers, SKUs and keys), against a constant endpoint in a
/// child process, just before the engine is measured. The scenario does not observe this pass, so it
/// schedules no follow-ups and keeps no state about it: only reservations are compared.
/// </summary>
/// <summary>
/// One measured pass against a constant endpoint, with what this process spent on it: CPU time, bytes allocated
/// and gen-0 collections (every collection counts one there), the cost of the harness's own client.
/// </summary>
public sealed record ConstantPass(
    LoadStats Stats, TimeSpan LoadTime, TimeSpan WarmUp, double WarmUpRate, TimeSpan HarnessCpu, long HarnessAllocatedBytes, int HarnessCollections);

public static class BaselineRun
{
    // A fresh .NET process needs seconds, not milliseconds, to reach its steady state (tiered compilation
    // with dynamic PGO in the background, the server GC sizing its heaps): on a busy 2-core machine the
    // constant endpoint answered 4,900/s after 1 s of warm-up, 23,000/s after 6 s, and a warm-up stopped
    // after 2-3 s still left the first measured second at a third of the rest. So the warm-up runs the
    // measured load model itself (at its rate, or with its workers) for at least 5 s, and then until its
    // throughput has not risen for 2 s (at a fixed rate that is at once).
    private static readonly TimeSpan WarmUpSlice = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan MinWarmUp = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan MaxWarmUp = TimeSpan.FromSeconds(20);

    /// <summary>A slice less than this much faster than the best one so far counts as no longer rising.</summary>
    private const double StillRising = 1.05;

    private const int FlatSlicesNeeded = 4;

    public static async Task<BaselineReport> RunAsync(
        LoadTestOptions options, IScenario scenario, BuyerTokens tokens, SaleUnderTest sale, ILoadModel model, TimeSpan duration,
        TextWriter progress, CancellationToken interrupt)
    {
        // The constant endpoint gives each SKU the engine's stock, so the stream meets the same sell-out.
        var stocks = sale.Skus.Select(s => s.Stock).Distinct().ToList();
        int? stock = stocks.Count == 1 ? stocks[0] : null;
        await using var server = await BaselineServerProcess.StartAsync(stock, tokens, interrupt);
        progress.WriteLine($"Constant endpoint at {server.Url} (a child process): {server.Description}");
        var pass = await MeasureAsync(server.Url, options, scenario, tokens, model, duration, progress, interrupt);
        return new BaselineReport(pass.Stats, pass.LoadTime, duration, model.Description, server.Description, stock, pass.WarmUp, pass.WarmUpRate);
    }

    /// <summary>
    /// Warms the constant endpoint at <paramref name="url"/> up and measures the scenario's requests against it
    /// (also what <c>client-overhead</c> runs, against an endpoint wrk measures too).
    /// </summary>
    public static async Task<ConstantPass> MeasureAsync(
        Uri url, LoadTestOptions options, IScenario scenario, BuyerTokens tokens, ILoadModel model, TimeSpan duration,
        TextWriter progress, CancellationToken interrupt)
    {
        using var client = new EngineClient(url, options.EffectiveConnections, options.Timeout, tokens, rawReservations: !options.HttpClientForReservations);

        // A fresh process is cold: warm both ends (its answers and our client) on a route of its own before measuring.
        var (warmUp, warmUpRate) = await WarmUpAsync(client, tokens, model, interrupt);
        progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Warmed the constant endpoint up for {warmUp.TotalSeconds:0.0} s with the same load model, until its throughput stopped rising ({warmUpRate:N0} answers/s)."));

        var stats = new LoadStats(keepCreated: false);
        using var run = new LoadRun(scenario, client, stats, lag: null, interrupt, observe: false);
        run.BeginWave(0);
        progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Measuring the constant endpoint: {model.Description}, {duration.TotalSeconds:0.###} s, the scenario's requests."));
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var allocatedBefore = GC.GetTotalAllocatedBytes();
        var gcsBefore = GC.CollectionCount(0);
        var start = Stopwatch.GetTimestamp();
        using (var stop = new CancellationTokenSource())
        {
            var printer = ProgressPrinter.RunAsync(stats, start, stop.Token);
            await model.RunAsync(run, start, duration);
            await stop.CancelAsync();
            await printer;
        }
        var end = Stopwatch.GetTimestamp();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        var allocated = GC.GetTotalAllocatedBytes() - allocatedBefore;
        var gcs = GC.CollectionCount(0) - gcsBefore;
        progress.WriteLine(ProgressPrinter.Format(stats, stats.Sample(Stopwatch.GetElapsedTime(start, end))));
        if (run.Failure is not null)
        {
            throw new BaselineException($"the harness failed while measuring the constant endpoint: {run.Failure}");
        }
        var lastAnswer = run.LastReservationAnswer;
        return new ConstantPass(stats, Stopwatch.GetElapsedTime(start, lastAnswer > start ? lastAnswer : end), warmUp, warmUpRate, cpu, allocated, gcs);
    }

    /// <summary>Runs the model in slices on a route of its own until four slices in a row are no faster than the best before (at least <see cref="MinWarmUp"/>).</summary>
    private static async Task<(TimeSpan Took, double Rate)> WarmUpAsync(EngineClient client, BuyerTokens tokens, ILoadModel model, CancellationToken interrupt)
    {
        tokens.Prepare([WarmUpScenario.Buyer], CancellationToken.None);
        var stats = new LoadStats(keepCreated: false);
        using var run = new LoadRun(new WarmUpScenario(), client, stats, lag: null, interrupt, observe: false);
        var started = Stopwatch.GetTimestamp();
        var best = 0.0;
        var rate = 0.0;
        var flat = 0;
        var slice = 0;
        while (Stopwatch.GetElapsedTime(started) < MaxWarmUp && !interrupt.IsCancellationRequested)
        {
            // Each slice is a wave of its own, so its keys follow on from the last slice's.
            run.BeginWave(slice++);
            var before = stats.Completed;
            var sliceStart = Stopwatch.GetTimestamp();
            await model.RunAsync(run, sliceStart, WarmUpSlice);
            rate = (stats.Completed - before) / Stopwatch.GetElapsedTime(sliceStart).TotalSeconds;
            flat = rate < best * StillRising ? flat + 1 : 0;
            best = Math.Max(best, rate);
            if (flat >= FlatSlicesNeeded && Stopwatch.GetElapsedTime(started) >= MinWarmUp)
            {
                break;
            }
        }
        if (run.Failure is not null)
        {
            throw new BaselineException($"the harness failed while warming the constant endpoint up: {run.Failure}");
        }
        return (Stopwatch.GetElapsedTime(started), rate);
    }

    /// <summary>Reservations for a campaign of the warm-up's own, so the measured pass finds the endpoint's counters untouched.</summary>
    private sealed class WarmUpScenario : IScenario
    {
        public const long Buyer = 1;

        public string Name => "baseline-warmup";

        public IEnumerable<long> Buyers => [Buyer];

        public Task<SaleUnderTest> SetUpAsync(SaleSetup setup, CancellationToken cancellationToken)
            => throw new NotSupportedException("The warm-up only sends requests to the constant endpoint.");

        public ReserveRequest Next(long sequence)
            => new("baseline-warmup", 1, Buyer, string.Create(CultureInfo.InvariantCulture, $"warmup-{sequence}"), 1);
    }
}
