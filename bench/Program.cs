using BenchmarkDotNet.Running;
using FlashSale.Bench;

// Pick benchmarks with --filter, e.g. dotnet run -c Release --project bench -- --filter '*HotSku*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, BenchConfig.Create());
