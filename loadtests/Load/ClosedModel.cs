using System.Diagnostics;

namespace FlashSale.LoadTests.Load;

/// <summary>
/// N workers, each sending its next request only when the last one was answered. The offered
/// load follows the server's speed, so a slow server is sent less: latency here is per answered
/// request, and a stall shows as lost throughput rather than as latency (coordinated omission).
/// Use the open model to measure latency under a fixed arrival rate.
/// </summary>
public sealed class ClosedModel(int concurrency) : ILoadModel
{
    public string Description => $"closed model: {concurrency} workers";

    public async Task RunAsync(LoadRun run, long startTimestamp, TimeSpan duration)
    {
        var end = startTimestamp + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var next = -1L;
        var workers = new Task[concurrency];
        for (var w = 0; w < workers.Length; w++)
        {
            workers[w] = Task.Run(async () =>
            {
                while (!run.Stopping.IsCancellationRequested && Stopwatch.GetTimestamp() < end)
                {
                    var sequence = Interlocked.Increment(ref next);
                    await run.ExecuteAsync(sequence, Stopwatch.GetTimestamp());
                }
            }, CancellationToken.None);
        }
        await Task.WhenAll(workers);
    }
}
