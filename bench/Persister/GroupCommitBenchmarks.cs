using BenchmarkDotNet.Attributes;
using FlashSale.Bench.Infrastructure;
using FlashSale.Engine.Kafka;
using FlashSale.Engine.Persistence;
using FlashSale.Engine.Storage;
using FlashSale.Engine.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using MySqlConnector;

namespace FlashSale.Bench.Persister;

/// <summary>
/// What sending a shard's whole transaction as one request is worth: the engine's <see cref="OrderBatchWriter"/>
/// (per shard ROLLBACK, START TRANSACTION, the inserts, the derived rows and COMMIT in one
/// <c>MySqlBatch</c>, on a pool without the reset on open) against <see cref="PerStatementBatchWriter"/>,
/// the same writer as it was before (a pooled open, BEGIN, each statement, COMMIT: a round trip each).
/// Both write the same rows with the same guarantees. Each invocation writes <see cref="Orders"/> new orders
/// in batches of <see cref="BatchSize"/>, so Op/s is orders per second; the RoundTrips/batch column is
/// counted in each benchmark's setup through a <see cref="RoundTripCounter"/> on the same databases.
/// </summary>
[Config(typeof(RoundTripsColumn.Config))]
// Not sealed: BenchmarkDotNet derives the class it generates for each run from this one.
public class GroupCommitBenchmarks
{
    private const int Orders = 1_000;

    private const int ConnectionsPerShard = 2;

    // Batches whose round trips are counted, after two that open the pools.
    private const int CountedBatches = 10;

    private BenchOrderShards? _shards;
    private ServiceProvider? _services;
    private Func<ReservationEvent[], Task<int>>? _write;

    /// <summary>Events per batch: the Persister's default (1,000), a batch that lingered out (200), a quiet moment (20).</summary>
    [Params(Orders, 200, 20)]
    public int BatchSize { get; set; }

    [GlobalSetup(Target = nameof(PerStatementTransaction))]
    public Task StartPerStatement() => StartAsync(nameof(PerStatementTransaction), Pick<PerStatementBatchWriter>);

    [GlobalSetup(Target = nameof(OneRequestPerShard))]
    public Task StartOneRequest() => StartAsync(nameof(OneRequestPerShard), Pick<OrderBatchWriter>);

    [Benchmark(Baseline = true, OperationsPerInvoke = Orders)]
    public Task PerStatementTransaction() => WriteOrdersAsync();

    [Benchmark(OperationsPerInvoke = Orders)]
    public Task OneRequestPerShard() => WriteOrdersAsync();

    [GlobalCleanup]
    public async Task Stop()
    {
        if (_shards is { } shards)
        {
            _shards = null;
            try
            {
                await RunChecks.VerifyAsync($"{nameof(GroupCommitBenchmarks)}.{BatchSize}", () => shards.VerifyAsync(withLogs: true));
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

    private async Task WriteOrdersAsync()
    {
        var shards = _shards!;
        for (var written = 0; written < Orders; written += BatchSize)
        {
            var events = shards.NewOrders(BatchSize);
            shards.CountWritten(await _write!(events), events.Length);
        }
    }

    private async Task StartAsync(string benchmark, Func<IServiceProvider, Func<ReservationEvent[], Task<int>>> pick)
    {
        if (Orders % BatchSize != 0)
        {
            throw new InvalidOperationException($"A batch size of {BatchSize} does not divide the {Orders} orders of an invocation.");
        }
        _shards = await BenchOrderShards.StartAsync(ConnectionsPerShard);
        _services = Writers(_shards.Shards);
        _write = pick(_services);
        RoundTripsColumn.Record(benchmark, BatchSize, await CountRoundTripsAsync(_shards, pick));
    }

    /// <summary>The round trips of one batch, both shards together, through a relay to the same databases.</summary>
    private async Task<double> CountRoundTripsAsync(BenchOrderShards shards, Func<IServiceProvider, Func<ReservationEvent[], Task<int>>> pick)
    {
        var serverPort = (int)new MySqlConnectionStringBuilder(LocalServices.MariaDb("")).Port;
        await using var counter = new RoundTripCounter(serverPort);
        await using var relayed = new ShardDataSources([.. BenchOrderShards.Databases.Select(d =>
            new MySqlConnectionStringBuilder(LocalServices.MariaDb(d, ConnectionsPerShard)) { Port = (uint)counter.Port }.ConnectionString)]);
        await using var services = Writers(relayed);
        var write = pick(services);
        for (var batch = -2; batch < CountedBatches; batch++)
        {
            if (batch == 0)
            {
                counter.Reset();
            }
            var events = shards.NewOrders(BatchSize);
            shards.CountWritten(await write(events), events.Length);
        }
        return counter.RoundTrips / (double)CountedBatches;
    }

    private static Func<ReservationEvent[], Task<int>> Pick<TWriter>(IServiceProvider services) where TWriter : notnull
    {
        var writer = services.GetRequiredService<TWriter>();
        return writer switch
        {
            OrderBatchWriter engine => events => engine.WriteAsync(events, CancellationToken.None),
            PerStatementBatchWriter before => events => before.WriteAsync(events, CancellationToken.None),
            _ => throw new ArgumentOutOfRangeException(nameof(TWriter), typeof(TWriter).Name, "Not a batch writer."),
        };
    }

    // The writers record their metrics as in the Persister; no exporter listens here, so they cost next to nothing.
    private static ServiceProvider Writers(ShardDataSources shards) => new ServiceCollection()
        .AddEngineMetrics<PersistenceMetrics>()
        .AddSingleton(shards)
        .AddSingleton<OrderBatchWriter>()
        .AddSingleton<PerStatementBatchWriter>()
        .BuildServiceProvider();
}
