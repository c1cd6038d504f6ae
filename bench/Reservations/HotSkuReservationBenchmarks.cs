using BenchmarkDotNet.Attributes;
using FlashSale.Bench.Infrastructure;

namespace FlashSale.Bench.Reservations;

/// <summary>
/// A flash sale's hot path: many buyers reserving ONE SKU at the same moment. The engine (a Lua script
/// in Redis) against what a shop does without it (a conditional UPDATE on the SKU's row in MariaDB),
/// measured side by side in one run. Each invocation makes <see cref="Reservations"/> reservations,
/// each by a new buyer, with <see cref="Concurrency"/> of them in flight at once: 64 is the flash
/// sale (all started together), 1 is the latency of one reservation when nobody else is buying.
/// Every reservation must succeed, or the benchmark fails rather than report the speed of refusals.
/// </summary>
// Not sealed: BenchmarkDotNet derives the class it generates for each run from this one.
public class HotSkuReservationBenchmarks
{
    private const int Reservations = 64;

    private MariaDbHotRow? _mariaDb;
    private EngineHotSku? _engine;
    private Func<Task>? _reserveWithMariaDb;
    private Func<Task>? _reserveWithEngine;

    [Params(Reservations, 1)]
    public int Concurrency { get; set; }

    [GlobalSetup(Target = nameof(MariaDbConditionalUpdate))]
    public async Task StartMariaDb()
    {
        _mariaDb = await MariaDbHotRow.StartAsync(connections: Reservations);
        _reserveWithMariaDb = _mariaDb.ReserveAsync;
    }

    [GlobalSetup(Target = nameof(EngineReserve))]
    public async Task StartEngine()
    {
        _engine = await EngineHotSku.StartAsync();
        _reserveWithEngine = _engine.ReserveAsync;
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Reservations)]
    public Task MariaDbConditionalUpdate() => Buy(_reserveWithMariaDb!);

    [Benchmark(OperationsPerInvoke = Reservations)]
    public Task EngineReserve() => Buy(_reserveWithEngine!);

    [GlobalCleanup(Target = nameof(MariaDbConditionalUpdate))]
    public async Task StopMariaDb()
    {
        if (_mariaDb is { } mariaDb)
        {
            try
            {
                await RunChecks.VerifyAsync($"{nameof(HotSkuReservationBenchmarks)}.{nameof(MariaDbConditionalUpdate)}", mariaDb.VerifyAsync);
            }
            finally
            {
                await mariaDb.DisposeAsync();
            }
        }
    }

    [GlobalCleanup(Target = nameof(EngineReserve))]
    public async Task StopEngine()
    {
        if (_engine is { } engine)
        {
            try
            {
                await RunChecks.VerifyAsync($"{nameof(HotSkuReservationBenchmarks)}.{nameof(EngineReserve)}", engine.VerifyAsync);
            }
            finally
            {
                await engine.DisposeAsync();
            }
        }
    }

    private Task Buy(Func<Task> reserve)
    {
        var buyers = new Task[Concurrency];
        var each = Reservations / Concurrency;
        for (var i = 0; i < buyers.Length; i++)
        {
            buyers[i] = each == 1 ? reserve() : InSequence(reserve, each);
        }
        return Task.WhenAll(buyers);
    }

    private static async Task InSequence(Func<Task> reserve, int count)
    {
        for (var i = 0; i < count; i++)
        {
            await reserve();
        }
    }
}
