using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using FlashSale.Bench.Infrastructure;

namespace FlashSale.Bench.Reservations;

/// <summary>
/// One hot SKU through the engine (group commit), not split (<c>Buckets</c> = 1) against split into three stock buckets
/// (3), side by side in one run; with the local 3-master cluster (<c>FLASHSALE_REDIS_MODE=cluster</c>) the three buckets
/// are on the three masters. Beside the throughput, each master's Redis CPU per reservation (<see cref="RedisCpu"/>):
/// where the decisions ran. <c>Concurrency</c> buyers at once, each invocation that many reservations: 64 as in the
/// hot-SKU benchmark, and 192, which gives each of three buckets the 64 a SKU that is not split gets at 64 (a bucket's
/// lane batches only the requests of its own buyers).
/// </summary>
[Config(typeof(Config))]
// Not sealed: BenchmarkDotNet derives the class it generates for each run from this one.
public class HotSkuBucketsBenchmarks
{
    private EngineHotSku? _engine;
    private Func<Task>? _reserve;
    private SortedDictionary<string, double>? _cpuBefore;
    private string[] _bucketMasters = [];

    [Params(1, 3)]
    public int Buckets { get; set; }

    [Params(64, 192)]
    public int Concurrency { get; set; }

    [GlobalSetup]
    public async Task Start()
    {
        _engine = await EngineHotSku.StartAsync(maxBatch: 64, Buckets);
        _reserve = _engine.ReserveAsync;
        _bucketMasters = await _engine.BucketMastersAsync();
        _cpuBefore = await RedisCpu.ReadAsync(_engine.Redis);
    }

    // OperationsPerInvoke must be a constant: one invocation makes 192 reservations whatever the concurrency (at 64,
    // three waves of 64).
    [Benchmark(OperationsPerInvoke = 192)]
    public async Task EngineReserve()
    {
        for (var wave = 0; wave < 192 / Concurrency; wave++)
        {
            await Wave();
        }
    }

    private Task Wave()
    {
        var buyers = new Task[Concurrency];
        for (var i = 0; i < buyers.Length; i++)
        {
            buyers[i] = _reserve!();
        }
        return Task.WhenAll(buyers);
    }

    [GlobalCleanup]
    public async Task Stop()
    {
        if (_engine is not { } engine)
        {
            return;
        }
        try
        {
            RedisCpu.Record(CaseKey(Buckets, Concurrency), _cpuBefore!, await RedisCpu.ReadAsync(engine.Redis), engine.Reserved, _bucketMasters);
            await RunChecks.VerifyAsync($"{nameof(HotSkuBucketsBenchmarks)}(Buckets={Buckets}, Concurrency={Concurrency})", engine.VerifyAsync);
        }
        finally
        {
            await engine.DisposeAsync();
        }
    }

    private static string CaseKey(object? buckets, object? concurrency) => $"{nameof(HotSkuBucketsBenchmarks)}:{buckets}:{concurrency}";

    private sealed class Config : ManualConfig
    {
        public Config() => AddColumn(new RedisCpuColumn(c => CaseKey(c.Parameters["Buckets"], c.Parameters["Concurrency"])));
    }
}
