using System.Diagnostics;
using FlashSale.LoadTests.Scenarios;

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
/// <para>
/// Follow-ups (a payment, a cancel) arrive the same way at their own due time, on top of the
/// reservation rate: a buyer pays when they decide to, not in a reservation's slot. Their latency counts
/// from their due time. After the duration only follow-ups are sent, until none is queued or in flight
/// (at most <see cref="LoadRun.FollowUpTail"/>).
/// </para>
/// </summary>
public sealed class OpenModel(double rate, int maxInFlight, TimeSpan requestTimeout) : ILoadModel
{
    /// <summary>With no reservation left and nothing queued, how long to wait for an answer in flight to add a follow-up.</summary>
    private static readonly TimeSpan IdlePoll = TimeSpan.FromMilliseconds(20);

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
        var followUps = run.FollowUps;
        var ticksPerRequest = Stopwatch.Frequency / rate;
        var end = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var tailEnd = end + (long)(LoadRun.FollowUpTail.TotalSeconds * Stopwatch.Frequency);
        var planned = (long)(duration.TotalSeconds * rate);
        long i = 0;
        long late = 0;
        long notSent = 0;
        while (!stop.IsCancellationRequested)
        {
            var nextReservation = i < planned ? start + (long)(i * ticksPerRequest) : long.MaxValue;
            var nextFollowUp = followUps.NextDue() ?? long.MaxValue;
            if (nextReservation == long.MaxValue && (nextFollowUp == long.MaxValue || Stopwatch.GetTimestamp() > tailEnd))
            {
                if (run.Idle || Stopwatch.GetTimestamp() > tailEnd)
                {
                    break;
                }
                // An answer still in flight may yet schedule a follow-up.
                followUps.WaitForChange(IdlePoll);
                continue;
            }

            var followUpFirst = nextFollowUp <= nextReservation;
            var sleep = PreciseSleep.Until(followUpFirst ? nextFollowUp : nextReservation, stop, followUps.Changed);
            if (sleep == SleepEnd.Stopped)
            {
                // Stopped while early for the next request: every request due so far was sent.
                break;
            }
            if (sleep == SleepEnd.Woken)
            {
                // A follow-up was added; it may be due before what we were waiting for.
                continue;
            }

            FollowUpAction? action = null;
            long intended;
            if (followUpFirst)
            {
                if (!followUps.TryTakeDue(Stopwatch.GetTimestamp(), out action, out intended))
                {
                    continue;
                }
            }
            else
            {
                intended = nextReservation;
            }

            if (!slots.Wait(0))
            {
                var limit = action is null ? end : tailEnd;
                if (action is null)
                {
                    late++;
                }
                var left = limit - Stopwatch.GetTimestamp();
                if (left <= 0 || !WaitForSlot(slots, TimeSpan.FromSeconds((double)left / Stopwatch.Frequency), stop))
                {
                    if (action is not null)
                    {
                        // Out of time for follow-ups: this one and whatever is queued are abandoned.
                        followUps.Schedule(action, intended);
                        break;
                    }
                    // Out of time (or stopped) while waiting for a slot: request i and all that fell due since were owed.
                    var due = Math.Min(planned, (long)((Stopwatch.GetTimestamp() - start) / ticksPerRequest) + 1);
                    notSent = Math.Max(0, due - i);
                    i = planned;
                    continue;
                }
            }

            if (action is null)
            {
                stats.RecordScheduleLag(Stopwatch.GetTimestamp() - intended);
                _ = SendAsync(run, slots, i, intended);
                i++;
            }
            else
            {
                _ = SendAsync(run, slots, action, intended);
            }
        }
        followUps.Abandon();
        stats.LateStarts += late;
        stats.NotSent += notSent;
    }

    private static async Task SendAsync(LoadRun run, SemaphoreSlim slots, long index, long intended)
    {
        try
        {
            await run.ExecuteReservationAsync(index, intended);
        }
        finally
        {
            slots.Release();
        }
    }

    private static async Task SendAsync(LoadRun run, SemaphoreSlim slots, FollowUpAction action, long intended)
    {
        try
        {
            await run.ExecuteFollowUpAsync(action, intended);
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
