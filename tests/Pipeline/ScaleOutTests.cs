using FlashSale.Engine.Fencing;
using FlashSale.Engine.Storage;
using FlashSale.Tests.Infrastructure;
using FlashSale.Tests.Reconciliation;

namespace FlashSale.Tests.Pipeline;

/// <summary>
/// The engine as dev/up.sh --ingress 2 --persisters 2 runs it: two Ingress processes (node ids 2 and 3, each with its
/// relay, one consumer group of outbox streams) and two Persisters (one Kafka consumer group, the partitions split
/// between them, each with its own metrics listener).
/// </summary>
public sealed class ScaleOutFixture : PipelineFixture
{
    public EngineProcess SecondIngress { get; private set; } = null!;

    public EngineProcess SecondPersister { get; private set; } = null!;

    /// <summary>Both Ingresses, also once one is dead: a client that finds one gone retries on the other.</summary>
    public IReadOnlyList<Uri> IngressUrls { get; private set; } = [];

    // A dead Persister's partitions go to the other once its session times out: 6 s rather than 10.
    protected override IEnumerable<(string Key, string Value)> PersisterSettings() =>
        [("Kafka__SessionTimeoutMs", "6000"), ("Reconciler__IntervalMs", "1000"), ("Reconciler__GraceMs", "10000")];

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        SecondIngress = EngineProcess.Listening("Ingress-3", "Ingress", Environment([("Engine__NodeId", "3"), .. IngressSettings()]));
        SecondPersister = EngineProcess.Listening("Persister-2", "Persister", Environment([.. PersisterSettings()]));
        await SecondIngress.StartAsync();
        await SecondPersister.StartAsync();
        IngressUrls = [Ingress.Url, SecondIngress.Url];
        // The group has rebalanced: the second Persister holds partitions of its own (the first was given all six first).
        // A cooperative rebalance first hands the newcomer nothing ("Assigned partitions: " and an empty list) and its
        // partitions only in a second round, seconds later: a sale started in between could end before it wrote a row.
        await Eventually.HoldsAsync(() => System.Text.RegularExpressions.Regex.IsMatch(SecondPersister.Log, @"Assigned partitions: \S"), TimeSpan.FromSeconds(60));
    }

    public override async Task DisposeAsync()
    {
        await SecondIngress.DisposeAsync();
        await SecondPersister.DisposeAsync();
        await base.DisposeAsync();
    }
}

[Collection(PipelineCollection.Name)]
[Trait("Category", "Slow")]
[Trait("Cluster", "yes")]
public sealed class ScaleOutTests(ScaleOutFixture engine) : IClassFixture<ScaleOutFixture>
{
    private const int Stock = 240;
    private const double PerSecond = 25;

    [Fact]
    public async Task TwoIngressAndTwoPersistersSellExactlyTheStockWhenOneOfEachIsKilledMidSale()
    {
        // On a cluster, each SKU on a master of its own: the sale spans every master.
        var campaignId = TestSale.NewCampaignId();
        var skus = ClusterSlots.SkusOn(campaignId, (await RedisTopology.ReadAsync(engine.Redis)).Primaries, first: 2001);
        if (skus.Length == 1)
        {
            skus = [skus[0], skus[0] + 1];
        }
        await engine.StartSaleAsync(campaignId, 900, [.. skus.Select(s => (s, Stock, 1))]);
        var sales = skus.Select(sku => new PacedSale(engine, () => engine.IngressUrls, campaignId, sku, PerSecond)).ToList();
        var selling = Task.WhenAll(sales.Select(s => s.RunAsync(clients: 8, TimeSpan.FromSeconds(150))));
        var total = Stock * skus.Length;

        // Before anything dies, both Ingresses have decided orders and both Persisters have written rows.
        await Eventually.HoldsAsync(async () =>
        {
            var nodes = (await engine.OrdersAsync(campaignId)).Select(r => OrderNumbers.NodeOf(r.OrderNo)).ToHashSet();
            return (nodes.SetEquals([2, 3]) && await RowsWrittenAsync(engine.Persister) > 0 && await RowsWrittenAsync(engine.SecondPersister) > 0)
                || selling.IsCompleted;
        }, TimeSpan.FromSeconds(60));
        Assert.False(selling.IsCompleted, "the sale ended before both Ingresses and both Persisters had worked");

        await Eventually.HoldsAsync(() => sales.Sum(s => s.Acknowledged) >= total / 3 || selling.IsCompleted, TimeSpan.FromSeconds(60));
        await engine.SecondIngress.KillAsync();
        await Eventually.HoldsAsync(() => sales.Sum(s => s.Acknowledged) >= total / 2 || selling.IsCompleted, TimeSpan.FromSeconds(60));
        await engine.SecondPersister.KillAsync();
        await selling;

        foreach (var sale in sales)
        {
            Assert.True(sale.Unexpected.Count == 0, sale.Summary());
            Assert.True(sale.Acknowledged == Stock, sale.Summary());
        }
        // Every acknowledged order once, in its shard, and nothing else: the dead Ingress's outbox entries were claimed by
        // the other's relay, the dead Persister's partitions consumed by the other.
        var successes = sales.SelectMany(s => s.Successes()).ToList();
        var rows = await engine.DrainAsync(campaignId, successes.Count);
        SaleTraffic.AssertExactlyOneRowEach(engine, successes, rows);
        Assert.Equal(total, rows.Sum(r => r.Quantity));

        using var admin = engine.Client(engine.Tokens.Mint(1, admin: true));
        foreach (var sku in skus)
        {
            var ledger = await Ledger.WaitSettledAsync(admin, campaignId, sku);
            Assert.Equal(0, ledger.GetProperty("drift").GetInt64());
            Assert.Equal(0, ledger.GetProperty("redis").GetProperty("available").GetInt64());
            Assert.Equal(Stock, ledger.GetProperty("db").GetProperty("pending").GetInt64());
        }
    }

    private static async Task<double> RowsWrittenAsync(EngineProcess persister)
    {
        using var client = new HttpClient { BaseAddress = persister.Url };
        return (await PrometheusScrape.FetchAsync(client)).Sum("flashsale_persister_rows_total");
    }
}
