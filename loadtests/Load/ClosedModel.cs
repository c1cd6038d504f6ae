using System.Diagnostics;

namespace FlashSale.LoadTests.Load;

/// <summary>
/// N workers, each sending its next request only when the last one was answered. The offered
/// load follows the server's speed, so a slow server is sent less: latency here is per answered
/// request, and a stall shows as lost throughput rather than as latency (coordinated omission).
/// Use the open model to measure latency under a fixed arrival rate.
/// <para>
/// A worker takes a due follow-up (a payment, a cancel) before a new reservation, as a buyer finishes
/// checking out before the next buyer arrives. After the duration the workers only send follow-ups,
/// until none is queued or in flight (at most <see cref="LoadRun.FollowUpTail"/>).
/// </para>
/// </summary>
public sealed class ClosedModel(int concurrency) : ILoadModel
{
    /// <summary>While only follow-ups are left, a worker with nothing due looks again after at most this.</summary>
    private static readonly TimeSpan IdlePoll = TimeSpan.FromMilliseconds(20);

    public string Description => $"closed model: {concurrency} workers";

    public async Task RunAsync(LoadRun run, long startTimestamp, TimeSpan duration)
    {
        var end = startTimestamp + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var tailEnd = end + (long)(LoadRun.FollowUpTail.TotalSeconds * Stopwatch.Frequency);
        var next = -1L;
        var workers = new Task[concurrency];
        for (var w = 0; w < workers.Length; w++)
        {
            workers[w] = Task.Run(async () =>
            {
                while (!run.Stopping.IsCancellationRequested)
                {
                    var now = Stopwatch.GetTimestamp();
                    if (run.FollowUps.TryTakeDue(now, out var action, out _))
                    {
                        await run.ExecuteFollowUpAsync(action, now);
                        continue;
                    }
                    if (now < end)
                    {
                        await run.ExecuteReservationAsync(Interlocked.Increment(ref next), now);
                        continue;
                    }
                    if (run.Idle || now > tailEnd)
                    {
                        break;
                    }
                    var due = run.FollowUps.NextDue();
                    var wait = due is { } at ? TimeSpan.FromSeconds((double)(at - now) / Stopwatch.Frequency) : IdlePoll;
                    await Task.Delay(wait < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : wait > IdlePoll ? IdlePoll : wait);
                }
            }, CancellationToken.None);
        }
        await Task.WhenAll(workers);
        run.FollowUps.Abandon();
    }
}
