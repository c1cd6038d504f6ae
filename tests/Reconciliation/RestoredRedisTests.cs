using System.Globalization;
using System.Net;
using FlashSale.Engine.Redis;
using FlashSale.Tests.Infrastructure;
using FlashSale.Tests.Pipeline;
using StackExchange.Redis;

namespace FlashSale.Tests.Reconciliation;

/// <summary>
/// The engine on a Redis server of its own that persists only RDB snapshots (no AOF), so that killing it
/// and starting it again brings back the state of the last snapshot and forgets everything after it.
/// </summary>
public sealed class SnapshotRedisFixture : PipelineFixture
{
    public PrivateRedis Server { get; } = new();

    public override string RedisEndpoint => Server.Endpoint;

    protected override IEnumerable<(string Key, string Value)> PersisterSettings() =>
        [("Reconciler__IntervalMs", "200"), ("Reconciler__GraceMs", "10000"), ("Reconciler__RecoverySettleMs", "500")];

    protected override Task StartRedisAsync() => Server.StartAsync();

    /// <summary>kill -9 the server, then start it again: it loads its last snapshot.</summary>
    public async Task CrashAndRestartAsync()
    {
        await Server.KillAsync();
        await Server.StartAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Server.DisposeAsync();
    }
}

[Collection(PipelineCollection.Name)]
[Trait("Category", "Slow")]
public sealed class RestoredRedisTests(SnapshotRedisFixture engine) : IClassFixture<SnapshotRedisFixture>
{
    private const long Sku = 1301;
    private const int Stock = 100;

    [Fact]
    public async Task RedisBackFromAnOlderSnapshotSellsNoUnitTwiceOnceReconciled()
    {
        var campaignId = await engine.StartSaleAsync((Sku, Stock, 2));
        var keys = new SkuKeys(campaignId, Sku);
        var beforeSnapshot = await SaleTraffic.ReserveAsync(engine, campaignId, [Sku], attempts: 20, buyers: 20, firstBuyer: 20_000);
        await engine.DrainAsync(campaignId, beforeSnapshot.Count);
        await engine.Redis.GetServer(engine.RedisEndpoint).ExecuteAsync("SAVE");

        var afterSnapshot = await SaleTraffic.ReserveAsync(engine, campaignId, [Sku], attempts: 20, buyers: 20, firstBuyer: 21_000);
        Assert.Equal(20, afterSnapshot.Count);
        await engine.DrainAsync(campaignId, beforeSnapshot.Count + afterSnapshot.Count);
        var held = beforeSnapshot.Concat(afterSnapshot).Sum(s => s.Quantity);

        await engine.CrashAndRestartAsync();
        // Redis forgot every reservation after the snapshot (its stock would sell those units again); it comes back
        // with another run_id, so its SKUs are fenced, and recovery finds each of them in MySQL and holds its units again.
        await Eventually.HoldsAsync(() => afterSnapshot.All(s => engine.Persister.Log.Contains(
            $"order {s.OrderNo} ({campaignId}/{Sku}, {s.Quantity} unit(s)) was unknown to Redis", StringComparison.Ordinal)), TimeSpan.FromSeconds(60));
        Assert.DoesNotContain(beforeSnapshot, s => engine.Persister.Log.Contains($"order {s.OrderNo} ", StringComparison.Ordinal));
        Assert.Equal(Stock - held, (long)await engine.Db.HashGetAsync(keys.Meta, "available"));
        using (var persister = new HttpClient { BaseAddress = engine.PersisterUrl })
        {
            var metrics = await PrometheusScrape.FetchAsync(persister);
            Assert.Equal(afterSnapshot.Count, metrics.Sum("flashsale_reconciler_repairs_total", ("kind", "unknown-to-redis")));
            // Drift is counted each time a check finds it: a round cut short by the reconnecting Redis may find some orders twice.
            Assert.True(metrics.Sum("flashsale_reconciler_drift_total", ("kind", "unknown-to-redis")) >= afterSnapshot.Sum(s => s.Quantity), metrics.Text);
        }

        using var admin = engine.Client(engine.Tokens.Mint(1, admin: true));
        var ledger = await Ledger.WaitSettledAsync(admin, campaignId, Sku);
        Assert.Equal(held, ledger.GetProperty("redis").GetProperty("reserved").GetInt64());
        await Eventually.HoldsAsync(async () =>
        {
            using var ready = await engine.Client().GetAsync("/health/ready");
            return ready.StatusCode == HttpStatusCode.OK;
        });

        // A buyer whose reservation Redis forgot retries with the same key: the same order comes back, not a second one.
        var retried = afterSnapshot.Single(s => s.UserId == 21_000);
        using (var buyer = engine.Client(engine.Tokens.Mint(retried.UserId)))
        using (var replay = await TestSale.SendReservationAsync(buyer, $"/api/v1/campaigns/{campaignId}/skus/{Sku}/reservations", "attempt-0",
            $$"""{"quantity":{{retried.Quantity}}}"""))
        {
            Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
            Assert.Equal(retried.OrderNo.ToString(CultureInfo.InvariantCulture), (await replay.JsonAsync()).GetProperty("orderNo").GetString());
        }

        // The restarted Redis was fenced (another run_id) and is on sale again once recovery rebuilt it.
        await SkuStates.WaitOnSaleAsync(engine.Client(), campaignId, Sku);

        // The rest of the sale: exactly the units nobody holds are sold, none twice.
        var rest = await SaleTraffic.ReserveAsync(engine, campaignId, [Sku], attempts: 200, buyers: 200, firstBuyer: 22_000);
        var successes = beforeSnapshot.Concat(afterSnapshot).Concat(rest).ToList();
        var rows = await engine.DrainAsync(campaignId, successes.Count);
        SaleTraffic.AssertExactlyOneRowEach(engine, successes, rows);
        Assert.Equal(Stock, rows.Sum(r => r.Quantity));
        Assert.Equal(0, (long)await engine.Db.HashGetAsync(keys.Meta, "available"));
        Assert.Equal(0, (await Ledger.WaitSettledAsync(admin, campaignId, Sku)).GetProperty("drift").GetInt64());
    }

    [Fact]
    public async Task ASkuWhoseRedisSequenceIsBelowWhatMySqlPersistedIsFencedAndRebuilt()
    {
        const long sku = 1302;
        var campaignId = await engine.StartSaleAsync((sku, Stock, 2));
        var keys = new SkuKeys(campaignId, sku);
        var sold = await SaleTraffic.ReserveAsync(engine, campaignId, [sku], attempts: 10, buyers: 10, firstBuyer: 23_000);
        await engine.DrainAsync(campaignId, sold.Count);
        var highWater = (long)await engine.Db.HashGetAsync(keys.Meta, "seq");

        // What a Redis that lost decisions looks like to the reconciler, with the same run_id: a sequence behind MySQL's.
        await engine.Db.HashSetAsync(keys.Meta, "seq", 0);

        await Eventually.HoldsAsync(() => engine.Persister.Log.Contains(
            $"{campaignId}/{sku} fenced: its Redis sequence 0 is below {highWater}", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        await SkuStates.WaitOnSaleAsync(engine.Client(), campaignId, sku);
        Assert.True((long)await engine.Db.HashGetAsync(keys.Meta, "seq") > highWater);
        Assert.Equal(Stock - sold.Sum(s => s.Quantity), (long)await engine.Db.HashGetAsync(keys.Meta, "available"));
        var more = await SaleTraffic.ReserveAsync(engine, campaignId, [sku], attempts: 5, buyers: 5, firstBuyer: 24_000);
        Assert.Equal(5, more.Count);
    }
}

/// <summary>A SKU's state as the public stock endpoint shows it.</summary>
internal static class SkuStates
{
    public static async Task<string> ReadAsync(HttpClient client, string campaignId, long skuId)
    {
        using var response = await client.GetAsync($"/api/v1/campaigns/{campaignId}/skus/{skuId}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.JsonAsync()).GetProperty("state").GetString()!;
    }

    /// <summary>Waits until the SKU is no longer fenced (Recovering); disposes <paramref name="client"/>.</summary>
    public static async Task WaitOnSaleAsync(HttpClient client, string campaignId, long skuId, TimeSpan? timeout = null)
    {
        using (client)
        {
            await Eventually.HoldsAsync(async () =>
            {
                try
                {
                    return await ReadAsync(client, campaignId, skuId) != "Recovering";
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            }, timeout ?? TimeSpan.FromSeconds(60));
        }
    }
}
