using Spectre.Console;

namespace FlashSale.Warmup.Stock;

/// <summary>
/// Moves the bar as the engine reports finished batches. Not <see cref="Progress{T}"/>: that posts
/// to the thread pool, so the last batch could show after the load has already returned.
/// </summary>
internal sealed class ProgressTaskReporter(ProgressTask task) : IProgress<int>
{
    public void Report(int value) => task.Increment(value);

    /// <summary>Runs <paramref name="work"/> under a progress bar of <paramref name="total"/> steps, which it reports as it goes.</summary>
    public static Task<T> RunAsync<T>(string description, int total, Func<IProgress<int>, Task<T>> work)
        => AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async progress =>
            {
                var task = progress.AddTask(description, maxValue: total);
                var result = await work(new ProgressTaskReporter(task));
                task.StopTask();
                return result;
            });
}
