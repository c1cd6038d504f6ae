using System.Net;
using FlashSale.Engine.Redis;
using FlashSale.Engine.Reservations;
using FlashSale.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace FlashSale.Tests.Reservations;

[Collection(IngressCollection.Name)]
[Trait("Cluster", "yes")]
public sealed class SoldOutFastPathTests(IngressFactory factory)
{
    private SoldOutCache Cache => factory.Services.GetRequiredService<SoldOutCache>();

    [Fact]
    public async Task AfterSellOutIngressAnswersSoldOutFromMemoryButStillReplaysOwners()
    {
        var sale = await TestSale.StartAsync(factory, stock: 1);
        using var owner = factory.Buyer(3001);
        using var late = factory.Buyer(3002);
        using var created = await sale.ReserveAsync(owner, "owner-key");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        await WaitUntilCachedAsync(sale, 3002, "late-key");

        // Take the SKU away from Redis behind Ingress's back: a request that reached Redis now
        // would be answered "not found", so "sold-out" can only come from memory.
        var meta = await sale.Db.KeyDumpAsync(sale.Keys.Meta);
        await sale.Db.KeyDeleteAsync(sale.Keys.Meta);
        using var fromMemory = await sale.ReserveAsync(late, "late-key");
        await sale.Db.KeyRestoreAsync(sale.Keys.Meta, meta!);

        await fromMemory.AssertProblemAsync(HttpStatusCode.Conflict, "sold-out");
        using var replay = await sale.ReserveAsync(owner, "owner-key");
        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
    }

    [Fact]
    public async Task StockComingBackEndsTheFastPathAtOnce()
    {
        var sale = await TestSale.StartAsync(factory, stock: 1);
        using var owner = factory.Buyer(3003);
        using var late = factory.Buyer(3004);
        using var created = await sale.ReserveAsync(owner, "k");
        var orderNo = (await created.JsonAsync()).GetProperty("orderNo").GetString()!;
        await ShardOrders.PersistAsync(factory, sale);
        await WaitUntilCachedAsync(sale, 3004, "k");

        // The owner cancels: the order lifecycle's release (release.lua) gives the unit back, moves the
        // stock generation and signals every Ingress.
        using var cancelled = await owner.PostAsync($"/api/v1/orders/{orderNo}/cancel", null);
        Assert.Equal(HttpStatusCode.OK, cancelled.StatusCode);
        Assert.Equal(1, await sale.AvailableAsync());
        await Eventually.HoldsAsync(() => !Cache.IsSoldOutFor(new ReservationRequest(sale.CampaignId, sale.SkuId, 3004, "k", 1)), TimeSpan.FromSeconds(10));

        using var second = await sale.ReserveAsync(late, "k");
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        Assert.Equal(0, await sale.AvailableAsync());
    }

    [Fact]
    public async Task MissedSignalIsCaughtByTheStockGenerationWithinTheCacheLifetime()
    {
        var sale = await TestSale.StartAsync(factory, stock: 1);
        using var owner = factory.Buyer(3005);
        using var late = factory.Buyer(3006);
        using var created = await sale.ReserveAsync(owner, "k");
        await WaitUntilCachedAsync(sale, 3006, "k");

        // Stock comes back with no signal (a lost pub/sub message): only the generation tells.
        await sale.Db.HashIncrementAsync(sale.Keys.Meta, "available", 1);
        await sale.Db.HashIncrementAsync(sale.Keys.Meta, "gen", 1);
        var request = new ReservationRequest(sale.CampaignId, sale.SkuId, 3006, "k", 1);
        await Eventually.HoldsAsync(() => !Cache.IsSoldOutFor(request), SoldOutCache.Ttl * 5);

        using var second = await sale.ReserveAsync(late, "k");
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
    }

    private async Task WaitUntilCachedAsync(TestSale sale, long userId, string key)
    {
        using var probe = factory.Buyer(userId);
        await Eventually.HoldsAsync(async () =>
        {
            // Each sold-out answer from Redis renews or (re)loads the snapshot.
            if (!Cache.IsSoldOutFor(new ReservationRequest(sale.CampaignId, sale.SkuId, userId, key, 1)))
            {
                using var _ = await sale.ReserveAsync(probe, "probe-" + Guid.NewGuid().ToString("N"));
                return false;
            }
            return true;
        });
    }
}
