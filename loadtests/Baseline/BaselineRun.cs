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
public static class BaselineRun
{
    // A fresh .NET process needs seconds, not milliseconds, to reach its steady state (tiered compilation
    // with dynamic PGO in the background, the server GC sizing its heaps): on a busy 2-core machine the
    // constant endpoint answered 4,900/s after 1 s of warm-up, 23,000/s after 6 s, and a warm-up stopped
    // after 2-3 s still left the first measured second at a third of the rest. So the warm-up lasts at
    // least 5 s, and then until its throughput has not risen for 2 s.
    private static readonly TimeSpan WarmUpSlice = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan MinWarmUp = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan MaxWarmUp = TimeSpan.FromSeconds(20);

    /// <summary>A slice less than this much faster than the best one so far counts as no longer rising.</summary>
    private const double StillRising = 1.05;

    private const int FlatSlicesNeeded = 4;
    private const int WarmUpWorkers = 8;
    private const string WarmUpCampaign = "baseline-warmup";

    public static async Task<BaselineReport> RunAsync(
        LoadTestOptions options, IScenario scenario, BuyerTokens tokens, SaleUnderTest sale, ILoadModel model, TimeSpan duration,
        TextWriter progress, CancellationToken interrupt)
    {
        // The constant endpoint gives each SKU the engine's stock, so the stream meets the same sell-out.
        var stocks = sale.Skus.Select(s => s.Stock).Distinct().ToList();
        int? stock = stocks.Count == 1 ? stocks[0] : null;
        await using var server = await BaselineServerProcess.StartAsync(stock, tokens, interrupt);
        progress.WriteLine($"Constant endpoint at {server.Url} (a child process): {server.Description}");
        using var client = new EngineClient(server.Url, options.EffectiveConnections, options.Timeout, tokens);

        // A fresh process is cold: warm both ends (its answers and our client) on a route of its own before measuring.
        var (warmUp, warmUpRate) = await WarmUpAsync(client, tokens);
        progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Warmed the constant endpoint up for {warmUp.TotalSeconds:0.0} s, until its throughput stopped rising ({warmUpRate:N0} answers/s with {WarmUpWorkers} workers)."));

        var stats = new LoadStats();
        using var run = new LoadRun(scenario, client, stats, lag: null, interrupt, observe: false);
        run.BeginWave(0);
        progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Measuring the constant endpoint: {model.Description}, {duration.TotalSeconds:0.###} s, the scenario's requests."));
        var start = Stopwatch.GetTimestamp();
        using (var stop = new CancellationTokenSource())
        {
            var printer = ProgressPrinter.RunAsync(stats, start, stop.Token);
            await model.RunAsync(run, start, duration);
            await stop.CancelAsync();
            await printer;
        }
        var end = Stopwatch.GetTimestamp();
        progress.WriteLine(ProgressPrinter.Format(stats, stats.Sample(Stopwatch.GetElapsedTime(start, end))));
        if (run.Failure is not null)
        {
            throw new BaselineException($"the harness failed while measuring the constant endpoint: {run.Failure}");
        }
        var lastAnswer = run.LastReservationAnswer;
        return new BaselineReport(
            stats, Stopwatch.GetElapsedTime(start, lastAnswer > start ? lastAnswer : end), duration, model.Description, server.Description, stock,
            warmUp, warmUpRate);
    }

    /// <summary>Closed-loop requests in slices until four slices in a row are no faster than the best before (at least <see cref="MinWarmUp"/>).</summary>
    private static async Task<(TimeSpan Took, double Rate)> WarmUpAsync(EngineClient client, BuyerTokens tokens)
    {
        tokens.Prepare([1], CancellationToken.None);
        var started = Stopwatch.GetTimestamp();
        var answered = 0L;
        var stop = 0;
        var workers = Enumerable.Range(0, WarmUpWorkers).Select(_ => Task.Run(async () =>
        {
            while (Volatile.Read(ref stop) == 0)
            {
                var n = Interlocked.Increment(ref answered);
                await client.ReserveAsync(new ReserveRequest(WarmUpCampaign, 1, 1, $"warmup-{n}", 1), CancellationToken.None);
            }
        })).ToList();

        var best = 0.0;
        var rate = 0.0;
        var flat = 0;
        var last = Interlocked.Read(ref answered);
        while (Stopwatch.GetElapsedTime(started) < MaxWarmUp)
        {
            await Task.Delay(WarmUpSlice);
            var now = Interlocked.Read(ref answered);
            rate = (now - last) / WarmUpSlice.TotalSeconds;
            last = now;
            flat = rate < best * StillRising ? flat + 1 : 0;
            best = Math.Max(best, rate);
            if (flat >= FlatSlicesNeeded && Stopwatch.GetElapsedTime(started) >= MinWarmUp)
            {
                break;
            }
        }
        Volatile.Write(ref stop, 1);
        await Task.WhenAll(workers);
        return (Stopwatch.GetElapsedTime(started), rate);
    }
}
