using BenchmarkDotNet.Running;
using FlashSale.Bench;
using FlashSale.Bench.Infrastructure;

// Pick benchmarks with --filter, e.g. dotnet run -c Release --project bench -- --filter '*HotSku*'
var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, BenchConfig.Create()).ToList();

// A benchmark that threw, or whose checks failed after measuring, must not pass for a result.
var failed = summaries.SelectMany(s => s.Reports).Where(r => !r.Success).Select(r => $"{r.BenchmarkCase.DisplayInfo}: did not run to the end")
    .Concat(RunChecks.Failures)
    .ToList();
foreach (var failure in failed)
{
    await Console.Error.WriteLineAsync("FAILED " + failure);
}
return failed.Count == 0 && summaries.All(s => !s.HasCriticalValidationErrors) ? 0 : 1;
