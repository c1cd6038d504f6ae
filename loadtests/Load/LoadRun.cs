using System.Diagnostics;
using FlashSale.LoadTests.EngineApi;
using FlashSale.LoadTests.Measurement;
using FlashSale.LoadTests.Pipeline;
using FlashSale.LoadTests.Scenarios;

namespace FlashSale.LoadTests.Load;

/// <summary>
/// What a load model drives: turns a sequence number into a request, sends it and records the
/// outcome. A bug in the harness itself stops the run through <see cref="Stopping"/> instead of
/// vanishing inside a fire-and-forget task.
/// </summary>
/// <param name="lag">Follows a sample of the 201s into MySQL; null when --lag-samples is 0.</param>
public sealed class LoadRun(IScenario scenario, EngineClient engine, LoadStats stats, PersistenceLagProbe? lag, CancellationToken stop) : IDisposable
{
    private readonly CancellationTokenSource _stopping = CancellationTokenSource.CreateLinkedTokenSource(stop);
    private Exception? _failure;

    public LoadStats Stats => stats;

    /// <summary>Cancelled on Ctrl+C or when the harness failed: models stop sending.</summary>
    public CancellationToken Stopping => _stopping.Token;

    public Exception? Failure => Volatile.Read(ref _failure);

    /// <summary>
    /// Sends request <paramref name="sequence"/>; its latency counts from <paramref name="startTimestamp"/>,
    /// the intended start in the open model and the actual one in the closed model.
    /// </summary>
    public async Task ExecuteAsync(long sequence, long startTimestamp)
    {
        try
        {
            var request = scenario.Next(sequence);
            stats.RecordSent();
            // Never cancelled once sent, not even on Ctrl+C: cutting a request would turn an outcome
            // the engine did decide into an unknown one. The client timeout bounds it instead.
            var result = await engine.ReserveAsync(request, CancellationToken.None);
            var answered = Stopwatch.GetTimestamp();
            stats.Record(request, result, answered - startTimestamp);
            scenario.Observe(request, result);
            lag?.Offer(request, result, answered);
        }
        catch (Exception ex)
        {
            // Whatever the server does ends as an outcome inside ReserveAsync; reaching here is a
            // harness bug, and a run that silently lost requests would report wrong numbers.
            Interlocked.CompareExchange(ref _failure, ex, null);
            await _stopping.CancelAsync();
        }
    }

    public void Dispose() => _stopping.Dispose();
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
