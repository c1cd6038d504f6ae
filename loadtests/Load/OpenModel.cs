using System.Diagnostics;

namespace FlashSale.LoadTests.Load;

/// <summary>
/// Requests arrive at a fixed rate whatever the server does: request i is due at
/// start + i/rate, and its latency counts from that intended start. A server that stalls for a
/// second therefore shows a second of latency on every request due in that second, instead of
/// the one slow answer a closed loop would see (coordinated omission, as wrk2 corrects it).
/// <para>
/// At most <c>maxInFlight</c> requests are outstanding. A request that finds the cap full waits
/// for a slot and is counted as late; its latency still counts from its intended start. One that
/// is still waiting when the duration is over is counted as not sent.
/// </para>
/// </summary>
public sealed class OpenModel(double rate, int maxInFlight, TimeSpan requestTimeout) : ILoadModel
{
    public string Description => $"open model: {rate:0.##} req/s, at most {maxInFlight} in flight";

    public Task RunAsync(LoadRun run, long startTimestamp, TimeSpan duration)
    {
        // A thread of its own: the schedule must not wait behind response continuations in the
        // thread pool, and blocking here (sleeping, waiting for a slot) costs no pool thread.
        var scheduled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var slots = new SemaphoreSlim(maxInFlight, maxInFlight);
        var thread = new Thread(() =>
        {
            try
            {
                Schedule(run, slots, startTimestamp, duration);
                scheduled.SetResult();
            }
            catch (Exception ex)
            {
                scheduled.SetException(ex);
            }
        })
        {
            IsBackground = true,
            Name = "open-model schedule",
            Priority = ThreadPriority.AboveNormal,
        };
        thread.Start();
        return DrainAsync(scheduled.Task, slots);
    }

    private async Task DrainAsync(Task scheduled, SemaphoreSlim slots)
    {
        await scheduled;
        await Drain.WaitAsync(() => slots.CurrentCount == maxInFlight, requestTimeout);
        // The semaphore is left to the GC: a request past the drain bound may still release it.
    }

    private void Schedule(LoadRun run, SemaphoreSlim slots, long start, TimeSpan duration)
    {
        var stats = run.Stats;
        var stop = run.Stopping;
        var ticksPerRequest = Stopwatch.Frequency / rate;
        var end = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var planned = (long)(duration.TotalSeconds * rate);
        long sent = 0;
        long late = 0;
        long notSent = 0;
        for (long i = 0; i < planned; i++)
        {
            var intended = start + (long)(i * ticksPerRequest);
            if (!PreciseSleep.Until(intended, stop))
            {
                // Stopped while early for request i: every request due so far was sent.
                break;
            }
            if (!slots.Wait(0))
            {
                late++;
                var left = end - Stopwatch.GetTimestamp();
                if (left <= 0 || !WaitForSlot(slots, TimeSpan.FromSeconds((double)left / Stopwatch.Frequency), stop))
                {
                    // Out of time (or stopped) while waiting for a slot: request i and all that fell due since were owed.
                    var due = Math.Min(planned, (long)((Stopwatch.GetTimestamp() - start) / ticksPerRequest) + 1);
                    notSent = Math.Max(0, due - sent);
                    break;
                }
            }
            stats.RecordScheduleLag(Stopwatch.GetTimestamp() - intended);
            _ = SendAsync(run, slots, i, intended);
            sent++;
        }
        stats.LateStarts = late;
        stats.NotSent = notSent;
    }

    private static async Task SendAsync(LoadRun run, SemaphoreSlim slots, long sequence, long intended)
    {
        try
        {
            await run.ExecuteAsync(sequence, intended);
        }
        finally
        {
            slots.Release();
        }
    }

    private static bool WaitForSlot(SemaphoreSlim slots, TimeSpan timeout, CancellationToken stop)
    {
        try
        {
            return slots.Wait(timeout, stop);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
