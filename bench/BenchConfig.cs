using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace FlashSale.Bench;

/// <summary>The configuration every benchmark of this project runs with (after SE.Redis' CustomConfig).</summary>
public static class BenchConfig
{
    public static IConfig Create() => ManualConfig.CreateMinimumViable()
        .AddAnalyser([.. DefaultConfig.Instance.GetAnalysers()])
        .AddValidator([.. DefaultConfig.Instance.GetValidators()])
        .AddJob(Job.Default
            // In process: the default toolchain looks for a project named like the assembly
            // (FlashSale.Bench.csproj) and would build its generated project under this repository's
            // Directory.Build.props, where every analyzer warning is an error.
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithLaunchCount(1)
            .WithWarmupCount(3)
            .WithIterationCount(15)
            // One invocation of a network benchmark already takes milliseconds: the default unroll
            // of 16 would only make each iteration needlessly long and the whole run slow.
            .WithUnrollFactor(1))
        .AddDiagnoser(MemoryDiagnoser.Default)
        .AddColumn(StatisticColumn.OperationsPerSecond)
        .AddExporter(MarkdownExporter.GitHub);
}
