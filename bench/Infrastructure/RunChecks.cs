using System.Collections.Concurrent;

namespace FlashSale.Bench.Infrastructure;

/// <summary>
/// The checks a benchmark runs after measuring (in <c>GlobalCleanup</c>: did every operation do what it
/// claimed?). BenchmarkDotNet only logs an exception thrown there and still prints the results table,
/// so a failed check is also recorded here and <c>Program</c> turns it into a failed run.
/// </summary>
public static class RunChecks
{
    private static readonly ConcurrentQueue<string> FailedChecks = new();

    public static IReadOnlyCollection<string> Failures => FailedChecks;

    public static async Task VerifyAsync(string benchmark, Func<Task> verify)
    {
        try
        {
            await verify();
        }
        catch (Exception ex)
        {
            FailedChecks.Enqueue($"{benchmark}: {ex.Message}");
            throw;
        }
    }
}
