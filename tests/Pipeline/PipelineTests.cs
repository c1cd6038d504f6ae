using System.Net;
using Dapper;
using FlashSale.Engine.Redis;
using FlashSale.Tests.Infrastructure;

namespace FlashSale.Tests.Pipeline;

[Collection(PipelineCollection.Name)]
[Trait("Category", "Slow")]
[Trait("Cluster", "yes")]
public sealed class PipelineTests(PipelineFixture engine) : IClassFixture<PipelineFixture>
{
    [Fact]
    public async Task FiveThousandReservationsBecomeExactlyOneRowEachInTheirShard()
    {
        long[] skus = [101, 102, 103, 104, 105];
        var campaignId = await engine.StartSaleAsync([.. skus.Select(s => (s, 1_400, 4))]);

        var successes = await SaleTraffic.ReserveAsync(engine, campaignId, skus, attempts: 5_000, buyers: 2_000);
        var rows = await engine.DrainAsync(campaignId, successes.Count);

        Assert.True(successes.Count >= 4_500, $"only {successes.Count} reservations succeeded");
        SaleTraffic.AssertExactlyOneRowEach(engine, successes, rows);
        foreach (var sku in skus)
        {
            var keys = new SkuKeys(campaignId, sku);
            var units = successes.Where(s => s.SkuId == sku).Sum(s => s.Quantity);
            Assert.Equal(1_400 - units, (long)await engine.Db.HashGetAsync(keys.Meta, "available"));
            await Eventually.HoldsAsync(async () => (await engine.CountersAsync(campaignId, sku)).Reserved == units);
            // Relayed entries are acknowledged and deleted: the outbox holds only what is still in flight.
            await Eventually.HoldsAsync(async () => await engine.Db.StreamLengthAsync(keys.Outbox) == 0);
        }
        await using var shard = await engine.Shards.OpenAsync(0, CancellationToken.None);
        var logged = await shard.ExecuteScalarAsync<int>(
            "SELECT COUNT(*) FROM order_status_log l JOIN orders o ON o.order_no = l.order_no WHERE o.campaign_id = @campaignId AND l.to_status = 'PendingPayment'",
            new { campaignId });
        Assert.Equal(rows.Count(r => r.Shard == 0), logged);
    }

    [Fact]
    public async Task EventsConsumedAgainAddNoRowsAndNoCounts()
    {
        long[] skus = [201, 202];
        var campaignId = await engine.StartSaleAsync([.. skus.Select(s => (s, 300, 2))]);
        var successes = await SaleTraffic.ReserveAsync(engine, campaignId, skus, attempts: 400, buyers: 300);
        await engine.DrainAsync(campaignId, successes.Count);
        await Eventually.HoldsAsync(async () => (await engine.CountersAsync(campaignId, 201)).Reserved == successes.Where(s => s.SkuId == 201).Sum(s => s.Quantity));
        var counted = await engine.CountersAsync(campaignId, 201);

        // A second persister in a new consumer group reads the whole topic again from the start.
        await using var replay = new EngineProcess("Persister-replay", "Persister",
            engine.Environment(("Persister__ConsumerGroup", engine.ConsumerGroup + "-replay")));
        await replay.StartAsync();
        // Once its group has committed the end of every partition, it has written (or absorbed) every event there is.
        await engine.WaitCaughtUpAsync(engine.ConsumerGroup + "-replay");

        SaleTraffic.AssertExactlyOneRowEach(engine, successes, await engine.OrdersAsync(campaignId));
        Assert.Equal(counted, await engine.CountersAsync(campaignId, 201));
    }

    [Fact]
    public async Task OrderIsReadableAtOnceAndPersistedLater()
    {
        var campaignId = await engine.StartSaleAsync((301, 10, 3));
        // The shard databases outlive a test run: a buyer id of its own keeps earlier runs' orders out of the list.
        var buyerId = Random.Shared.NextInt64(1_000_000_000, 2_000_000_000);
        using var buyer = engine.Client(engine.Tokens.Mint(buyerId));
        using var other = engine.Client(engine.Tokens.Mint(buyerId + 1));
        using var admin = engine.Client(engine.Tokens.Mint(1, admin: true));

        var orderNos = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            using var created = await TestSale.SendReservationAsync(buyer, $"/api/v1/campaigns/{campaignId}/skus/301/reservations", $"k{i}");
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            orderNos.Add((await created.JsonAsync()).GetProperty("orderNo").GetString()!);
        }
        using (var immediately = await buyer.GetAsync($"/api/v1/orders/{orderNos[0]}"))
        {
            Assert.Equal(HttpStatusCode.OK, immediately.StatusCode);
            var order = await immediately.JsonAsync();
            Assert.Equal("PendingPayment", order.GetProperty("status").GetString());
            Assert.Equal("12.50", order.GetProperty("amount").GetString());
        }

        await engine.DrainAsync(campaignId, 3);

        using var persisted = await buyer.GetAsync($"/api/v1/orders/{orderNos[0]}");
        Assert.True((await persisted.JsonAsync()).GetProperty("persisted").GetBoolean());
        using var notYours = await other.GetAsync($"/api/v1/orders/{orderNos[0]}");
        await notYours.AssertProblemAsync(HttpStatusCode.NotFound, "not-found");
        using var asAdmin = await admin.GetAsync($"/api/v1/orders/{orderNos[0]}");
        Assert.Equal(HttpStatusCode.OK, asAdmin.StatusCode);

        using var page1 = await buyer.GetAsync("/api/v1/orders?limit=2");
        var first = await page1.JsonAsync();
        Assert.Equal([orderNos[2], orderNos[1]], first.GetProperty("items").EnumerateArray().Select(o => o.GetProperty("orderNo").GetString()!));
        using var page2 = await buyer.GetAsync($"/api/v1/orders?limit=2&cursor={first.GetProperty("nextCursor").GetString()}");
        var second = await page2.JsonAsync();
        Assert.Equal([orderNos[0]], second.GetProperty("items").EnumerateArray().Select(o => o.GetProperty("orderNo").GetString()!));
        Assert.Equal(System.Text.Json.JsonValueKind.Null, second.GetProperty("nextCursor").ValueKind);
    }
}
