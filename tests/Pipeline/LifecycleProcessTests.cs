using Dapper;
using FlashSale.Engine.Redis;
using FlashSale.Tests.Infrastructure;

namespace FlashSale.Tests.Pipeline;

[Collection(PipelineCollection.Name)]
[Trait("Category", "Slow")]
[Trait("Cluster", "yes")]
public sealed class LifecycleProcessTests(PipelineFixture engine) : IClassFixture<PipelineFixture>
{
    [Fact]
    public async Task PersisterKilledBetweenCancelAndReleaseReturnsEachUnitExactlyOnceAfterRestart()
    {
        var campaignId = await engine.StartSaleAsync(paymentWindowSeconds: 1, (801, 20, 2));
        var keys = new SkuKeys(campaignId, 801);
        // This Persister reaches Kafka and MySQL but not Redis: it can cancel expired orders, never release them.
        await engine.Persister.StopAsync();
        await using var cutOff = new EngineProcess("Persister-without-Redis", "Persister",
            engine.Environment(("ConnectionStrings__Redis", "127.0.0.1:1,connectTimeout=500")));
        await cutOff.StartAsync();
        try
        {
            var successes = await SaleTraffic.ReserveAsync(engine, campaignId, [801], attempts: 10, buyers: 10);
            Assert.Equal(10, successes.Count);
            var unitsHeld = successes.Sum(s => s.Quantity);
            await engine.DrainAsync(campaignId, successes.Count);

            await Eventually.HoldsAsync(async () => await CountAsync(campaignId, "status = 'Cancelled' AND stock_released = 0") == successes.Count, TimeSpan.FromSeconds(90));
            await cutOff.KillAsync();
            Assert.Equal(20 - unitsHeld, (long)await engine.Db.HashGetAsync(keys.Meta, "available"));
        }
        finally
        {
            await engine.Persister.StartAsync();
        }

        await Eventually.HoldsAsync(async () => await CountAsync(campaignId, "stock_released = 1") == 10, TimeSpan.FromSeconds(30));
        Assert.Equal(20, (long)await engine.Db.HashGetAsync(keys.Meta, "available"));
        var ledger = await RedisLedger.AllAsync(engine.Db, keys);
        Assert.All(ledger, e => Assert.EndsWith("|C", e.Value.ToString(), StringComparison.Ordinal));
        Assert.Equal(10, await CountLogAsync(campaignId, "release"));

        // Releasing again (another Persister's scan, a retry) gives nothing back a second time.
        var again = await engine.Scripts.ReleaseAsync(engine.Db, keys, (long)ledger[0].Name);
        Assert.Equal(ReleaseOutcome.AlreadyReleased, again);
        Assert.Equal(20, (long)await engine.Db.HashGetAsync(keys.Meta, "available"));
    }

    private async Task<int> CountAsync(string campaignId, string condition)
        => (await engine.Shards.QueryEveryShardAsync<int>(
            $"SELECT COUNT(*) FROM orders WHERE campaign_id = @campaignId AND {condition}", new { campaignId }, CancellationToken.None)).Sum();

    private async Task<int> CountLogAsync(string campaignId, string movement)
        => (await engine.Shards.QueryEveryShardAsync<int>(
            "SELECT COUNT(*) FROM inventory_log WHERE campaign_id = @campaignId AND movement = @movement", new { campaignId, movement },
            CancellationToken.None)).Sum();
}
