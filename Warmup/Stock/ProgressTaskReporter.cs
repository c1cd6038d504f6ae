using Spectre.Console;

namespace FlashSale.Warmup.Stock;

/// <summary>
/// Moves the bar as the engine reports finished batches. Not <see cref="Progress{T}"/>: that posts
/// to the thread pool, so the last batch could show after the load has already returned.
/// </summary>
internal sealed class ProgressTaskReporter(ProgressTask task) : IProgress<int>
{
    public void Report(int value) => task.Increment(value);
}
