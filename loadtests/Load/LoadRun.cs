using System.Diagnostics;
using FlashSale.LoadTests.EngineApi;
using FlashSale.LoadTests.Measurement;
using FlashSale.LoadTests.Pipeline;
using FlashSale.LoadTests.Scenarios;

namespace FlashSale.LoadTests.Load;

/// <summary>
/// What a load model drives: turns a sequence number into a reservation (or takes a due follow-up),
/// sends it and records the outcome. A bug in the harness itself stops the run through
/// <see cref="Stopping"/> instead of vanishing inside a fire-and-forget task.
/// </summary>
/// <param name="lag">Follows a sample of the 201s into MySQL; null when --lag-samples is 0.</param>
/// <param name="observe">
/// False for a measuring pass against the constant endpoint: answers are counted, but the scenario
/// never sees them, so it neither keeps state about that pass nor schedules follow-ups from it.
/// </param>
public sealed class LoadRun(
    IScenario scenario, EngineClient engine, LoadStats stats, PersistenceLagProbe? lag, CancellationToken stop, bool observe = true)
    : ILoadContext, IDisposable
{
    /// <summary>After the last reservation, follow-ups (and their retries) get this long before the rest are abandoned.</summary>
    public static readonly TimeSpan FollowUpTail = TimeSpan.FromMinutes(2);

    private readonly CancellationTokenSource _stopping = CancellationTokenSource.CreateLinkedTokenSource(stop);
    private Exception? _failure;
    private long _sequenceBase;
    private long _issued;
    private long _active;
    private long _lastReservationAnswer;

    public LoadStats Stats => stats;

    /// <summary>The load's client, for a scenario that drives its own traffic (<see cref="IScenario.Model"/>).</summary>
    public EngineClient Engine => engine;

    public FollowUpQueue FollowUps { get; } = new();

    /// <summary>Cancelled on Ctrl+C or when the harness failed: models stop sending.</summary>
    public CancellationToken Stopping => _stopping.Token;

    public Exception? Failure => Volatile.Read(ref _failure);

    public int Wave { get; private set; }

    /// <summary>Requests sent and not yet fully handled (answer recorded and observed): their observation may still add follow-ups.</summary>
    public long Active => Interlocked.Read(ref _active);

    /// <summary>True when nothing is queued or in flight that could still lead to another request.</summary>
    public bool Idle => Active == 0 && FollowUps.Count == 0;

    /// <summary>When the last reservation of the run was answered (a Stopwatch timestamp; 0 before the first).</summary>
    public long LastReservationAnswer => Interlocked.Read(ref _lastReservationAnswer);

    /// <summary>Starts wave <paramref name="wave"/>: its reservations continue the sequence numbers where the last wave stopped.</summary>
    public void BeginWave(int wave)
    {
        Wave = wave;
        _sequenceBase = Interlocked.Read(ref _issued);
    }

    /// <summary>
    /// Sends the wave's reservation number <paramref name="index"/>; its latency counts from <paramref name="startTimestamp"/>,
    /// the intended start in the open model and the actual one in the closed model.
    /// </summary>
    public async Task ExecuteReservationAsync(long index, long startTimestamp)
    {
        var sequence = _sequenceBase + index;
        InterlockedMax(ref _issued, sequence + 1);
        ReserveRequest request;
        try
        {
            request = scenario.Next(sequence);
        }
        catch (Exception ex)
        {
            await FailAsync(ex);
            return;
        }
        await ExecuteReservationAsync(request, startTimestamp);
    }

    /// <summary>Sends a reservation the scenario made itself (its own <see cref="IScenario.Model"/>), measured like the rest.</summary>
    public async Task ExecuteReservationAsync(ReserveRequest request, long startTimestamp)
    {
        Interlocked.Increment(ref _active);
        try
        {
            stats.RecordSent();
            // Never cancelled once sent, not even on Ctrl+C: cutting a request would turn an outcome
            // the engine did decide into an unknown one. The client timeout bounds it instead.
            var result = await engine.ReserveAsync(request, CancellationToken.None);
            var answered = Stopwatch.GetTimestamp();
            stats.Record(request, result, startTimestamp, answered);
            InterlockedMax(ref _lastReservationAnswer, answered);
            if (observe)
            {
                scenario.Observe(request, result, this);
                lag?.Offer(request, result, answered);
            }
        }
        catch (Exception ex)
        {
            await FailAsync(ex);
        }
        finally
        {
            Interlocked.Decrement(ref _active);
        }
    }

    /// <summary>Sends a follow-up that fell due at (or, in the closed model, was taken at) <paramref name="startTimestamp"/>.</summary>
    public async Task ExecuteFollowUpAsync(FollowUpAction action, long startTimestamp)
    {
        Interlocked.Increment(ref _active);
        try
        {
            stats.RecordFollowUpSent();
            var result = await engine.FollowUpAsync(action, CancellationToken.None);
            stats.RecordFollowUp(action, result, Stopwatch.GetTimestamp() - startTimestamp);
            if (observe)
            {
                scenario.Observe(action, result, this);
            }
        }
        catch (Exception ex)
        {
            await FailAsync(ex);
        }
        finally
        {
            Interlocked.Decrement(ref _active);
        }
    }

    /// <summary>Follow-ups are queued only while the scenario observes: a measuring pass sends reservations alone.</summary>
    public void FollowUp(FollowUpAction action, TimeSpan delay)
    {
        if (observe && !Stopping.IsCancellationRequested)
        {
            FollowUps.Schedule(action, FollowUpQueue.DueIn(delay));
        }
    }

    public void Dispose()
    {
        _stopping.Dispose();
        FollowUps.Dispose();
    }

    private async Task FailAsync(Exception ex)
    {
        // Whatever the server does ends as an outcome inside the client; reaching here is a
        // harness bug, and a run that silently lost requests would report wrong numbers.
        Interlocked.CompareExchange(ref _failure, ex, null);
        await _stopping.CancelAsync();
    }

    private static void InterlockedMax(ref long target, long value)
    {
        var current = Interlocked.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }
            current = seen;
        }
    }
}

/// <summary>How requests are paced. A model returns once its requests are all answered (or abandoned, see <see cref="Drain"/>).</summary>
public interface ILoadModel
{
    string Description { get; }

    Task RunAsync(LoadRun run, long startTimestamp, TimeSpan duration);
}

public static class Drain
{
    /// <summary>
    /// Waits for in-flight requests after the last one was sent. The client timeout already
    /// bounds each of them; the margin only covers a stuck harness, which is then reported.
    /// </summary>
    public static async Task WaitAsync(Func<bool> drained, TimeSpan requestTimeout)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)((requestTimeout + TimeSpan.FromSeconds(5)).TotalSeconds * Stopwatch.Frequency);
        while (!drained() && Stopwatch.GetTimestamp() < deadline)
        {
            await Task.Delay(10, CancellationToken.None);
        }
    }
}
