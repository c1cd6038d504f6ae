using BenchmarkDotNet.Attributes;
using FlashSale.Bench.Infrastructure;

namespace FlashSale.Bench.Reservations;

/// <summary>
/// A flash sale's hot path: many buyers reserving ONE SKU at the same moment. The engine (a Lua script
/// in Redis) against what a shop does without it (a conditional UPDATE on the SKU's row in MariaDB),
/// measured side by side in one run; the engine twice: coalescing concurrent buyers into one script call
/// (group commit, the default) and deciding each buyer in a call of its own (<c>Reservations:MaxBatch = 1</c>). Each invocation makes <see cref="Reservations"/> reservations,
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
    private EngineHotSku? _singleCall;
    private Func<Task>? _reserveWithMariaDb;
    private Func<Task>? _reserveWithEngine;
    private Func<Task>? _reserveOneByOne;

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
        _engine = await EngineHotSku.StartAsync(maxBatch: 64);
        _reserveWithEngine = _engine.ReserveAsync;
    }

    [GlobalSetup(Target = nameof(EngineReserveSingleCall))]
    public async Task StartSingleCallEngine()
    {
        _singleCall = await EngineHotSku.StartAsync(maxBatch: 1);
        _reserveOneByOne = _singleCall.ReserveAsync;
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Reservations)]
    public Task MariaDbConditionalUpdate() => Buy(_reserveWithMariaDb!);

    [Benchmark(OperationsPerInvoke = Reservations)]
    public Task EngineReserve() => Buy(_reserveWithEngine!);

    [Benchmark(OperationsPerInvoke = Reservations)]
    public Task EngineReserveSingleCall() => Buy(_reserveOneByOne!);

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
    public Task StopEngine() => StopAsync(_engine, nameof(EngineReserve));

    [GlobalCleanup(Target = nameof(EngineReserveSingleCall))]
    public Task StopSingleCallEngine() => StopAsync(_singleCall, nameof(EngineReserveSingleCall));

    private static async Task StopAsync(EngineHotSku? engine, string benchmark)
    {
        if (engine is null)
        {
            return;
        }
        try
        {
            await RunChecks.VerifyAsync($"{nameof(HotSkuReservationBenchmarks)}.{benchmark}", engine.VerifyAsync);
        }
        finally
        {
            await engine.DisposeAsync();
        }
    }

    // The buyers start on the thread pool, where a server's requests run: what one pass of a worker admits is what the
    // engine may decide together (a caller outside the pool is decided on its own thread, one call at a time).
    private Task Buy(Func<Task> reserve) => Task.Run(() => StartBuyers(reserve));

    private Task StartBuyers(Func<Task> reserve)
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
