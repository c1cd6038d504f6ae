using System.Diagnostics;
using System.Globalization;
using System.Text;
using FlashSale.LoadTests.EngineApi;

namespace FlashSale.LoadTests.Measurement;

/// <summary>Once a second: cuts an interval from the stats and prints one line on stderr, so stdout stays the result.</summary>
public static class ProgressPrinter
{
    public static async Task RunAsync(LoadStats stats, long startTimestamp, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                var sample = stats.Sample(Stopwatch.GetElapsedTime(startTimestamp));
                Console.Error.WriteLine(Format(stats, sample));
            }
        }
        catch (OperationCanceledException)
        {
            // The run is over; the caller takes the last sample itself.
        }
    }

    public static string Format(LoadStats stats, IntervalSample sample)
    {
        var line = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"[{sample.Elapsed.TotalSeconds,6:0.0}s] ")
            .Append(CultureInfo.InvariantCulture, $"sent {stats.Sent,9:N0}  done {stats.Completed,9:N0}  in flight {stats.InFlight,5:N0} | ")
            .Append(CultureInfo.InvariantCulture, $"{sample.CompletedPerSecond,8:N0} req/s |");
        foreach (var outcome in Outcomes.All)
        {
            var count = stats.Count(outcome);
            if (count > 0)
            {
                line.Append(CultureInfo.InvariantCulture, $" {outcome.Label()} {count:N0}");
            }
        }
        line.Append(CultureInfo.InvariantCulture, $" | p99 {sample.Latency.P99:0.00} ms (so far {stats.OverallLatency().P99:0.00} ms)");
        if (stats.FollowUpsSent > 0)
        {
            line.Append(CultureInfo.InvariantCulture, $" | follow-ups sent {stats.FollowUpsSent:N0}, answered {stats.FollowUpsAnswered:N0}");
        }
        return line.ToString();
    }
}
