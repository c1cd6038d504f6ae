using BenchmarkDotNet.Attributes;
using FlashSale.Bench.Infrastructure;
using FlashSale.Engine.Persistence;
using FlashSale.Engine.Telemetry;
using Microsoft.Extensions.DependencyInjection;

namespace FlashSale.Bench.Persister;

/// <summary>
/// How fast the Persister gets orders into two MariaDB shards: the engine's <see cref="OrderBatchWriter"/>
/// (per shard one transaction of multi-row INSERT IGNOREs, plus status log, inventory log and counter
/// rows) against the same orders inserted one row per statement in autocommit, what a naive consumer
/// does, measured side by side in one run. Each invocation writes <see cref="Orders"/> new orders, in
/// batches of <see cref="BatchSize"/> for the writer, so Op/s is orders (rows of <c>orders</c>) per second.
/// A write that inserts fewer orders than it was given fails the benchmark rather than report a speed.
/// </summary>
// Two invocations per iteration instead of the pilot's minimum of four: a baseline invocation is 1,000
// commits (about a second here), and four of them per iteration made the run take 4.5 minutes.
[InvocationCount(2)]
// Not sealed: BenchmarkDotNet derives the class it generates for each run from this one.
public class BatchWriterBenchmarks
{
    private const int Orders = 1_000;

    // One connection per shard is all either side uses at a time; one spare.
    private const int ConnectionsPerShard = 2;

    private BenchOrderShards? _shards;
    private OrderBatchWriter? _writer;

    // The writer records its metrics as in the Persister; no exporter listens here, so they cost next to nothing.
    private ServiceProvider? _services;

    /// <summary>Events per <see cref="OrderBatchWriter.WriteAsync"/>; 1,000 is the Persister's default batch.</summary>
    [Params(Orders, 200)]
    public int BatchSize { get; set; }

    [GlobalSetup]
    public async Task Start()
    {
        if (Orders % BatchSize != 0)
        {
            throw new InvalidOperationException($"A batch size of {BatchSize} does not divide the {Orders} orders of an invocation.");
        }
        _shards = await BenchOrderShards.StartAsync(ConnectionsPerShard);
        // The container owns the writer (and its connection pools) and disposes it with itself.
        _services = new ServiceCollection().AddEngineMetrics<PersistenceMetrics>()
            .AddSingleton(_shards.Shards).AddSingleton<OrderBatchWriter>().BuildServiceProvider();
        _writer = _services.GetRequiredService<OrderBatchWriter>();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Orders)]
    public async Task OneRowPerStatement()
    {
        var shards = _shards!;
        // The baseline's cost does not depend on the batch size: it writes the same 1,000 orders either way.
        var events = shards.NewOrders(Orders);
        shards.CountWritten(await shards.InsertOneByOneAsync(events, CancellationToken.None), events.Length);
    }

    [Benchmark(OperationsPerInvoke = Orders)]
    public async Task BatchWriter()
    {
        var shards = _shards!;
        for (var written = 0; written < Orders; written += BatchSize)
        {
            var events = shards.NewOrders(BatchSize);
            shards.CountWritten(await _writer!.WriteAsync(events, CancellationToken.None), events.Length);
        }
    }

    [GlobalCleanup(Target = nameof(OneRowPerStatement))]
    public Task StopOneRowPerStatement() => StopAsync(nameof(OneRowPerStatement), withLogs: false);

    [GlobalCleanup(Target = nameof(BatchWriter))]
    public Task StopBatchWriter() => StopAsync(nameof(BatchWriter), withLogs: true);

    private async Task StopAsync(string benchmark, bool withLogs)
    {
        if (_shards is { } shards)
        {
            _shards = null;
            try
            {
                await RunChecks.VerifyAsync($"{nameof(BatchWriterBenchmarks)}.{benchmark}", () => shards.VerifyAsync(withLogs));
            }
            finally
            {
                await shards.DisposeAsync();
                if (_services is { } services)
                {
                    _services = null;
                    await services.DisposeAsync();
                }
            }
        }
    }
}
