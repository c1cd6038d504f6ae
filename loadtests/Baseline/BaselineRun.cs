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
public sealed record BaselineReport(LoadStats Stats, TimeSpan LoadTime, TimeSpan Duration, string ModelDescription, string Server, int? Stock);

/// <summary>
/// The side-by-side pass of <c>--baseline</c>: the same load model, sending the same scenario's requests
/// (the same sequence numbers, so the same buyers, SKUs and keys), against a constant endpoint in a
/// child process, just before the engine is measured. The scenario does not observe this pass, so it
/// schedules no follow-ups and keeps no state about it: only reservations are compared.
/// </summary>
public static class BaselineRun
{
    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(1);
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

        // A fresh process is cold: JIT both ends (its answers and our client) on a route of its own before measuring.
        await WarmUpAsync(client, tokens);

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
            stats, Stopwatch.GetElapsedTime(start, lastAnswer > start ? lastAnswer : end), duration, model.Description, server.Description, stock);
    }

    private static async Task WarmUpAsync(EngineClient client, BuyerTokens tokens)
    {
        tokens.Prepare([1], CancellationToken.None);
        var end = Stopwatch.GetTimestamp() + (long)(WarmUp.TotalSeconds * Stopwatch.Frequency);
        var sequence = 0L;
        await Task.WhenAll(Enumerable.Range(0, WarmUpWorkers).Select(_ => Task.Run(async () =>
        {
            while (Stopwatch.GetTimestamp() < end)
            {
                var n = Interlocked.Increment(ref sequence);
                await client.ReserveAsync(new ReserveRequest(WarmUpCampaign, 1, 1, $"warmup-{n}", 1), CancellationToken.None);
            }
        })));
    }
}
