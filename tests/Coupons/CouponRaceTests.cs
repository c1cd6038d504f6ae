using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text.Json;
using FlashSale.Engine.Fencing;
using FlashSale.Engine.Redis;
using FlashSale.Tests.Infrastructure;

namespace FlashSale.Tests.Coupons;

/// <summary>
/// The race: 100 units, a pool of 30 coupons with a limit of one per buyer, 1,000 buyers each trying twice with the
/// coupon. Exactly 30 orders carry the coupon, every other attempt is coupon-unavailable, and nothing else is held. The
/// pool is always under a hash tag of its own; in the cluster pass the test puts it on another master than the SKU.
/// </summary>
[Collection(IngressCollection.Name)]
[Trait("Cluster", "yes")]
public sealed class CouponRaceTests(IngressFactory factory)
{
    [Fact]
    public async Task ThirtyCouponsGoToThirtyBuyersAndEveryOtherAttemptIsCouponUnavailable()
    {
        const int buyers = 1_000;
        const int attemptsPerBuyer = 2;
        const int stock = 100;
        const int coupons = 30;
        var campaignId = TestSale.NewCampaignId();
        var skuId = Random.Shared.NextInt64(1, 1_000_000);
        var couponId = await CouponAwayFromAsync(new SkuKeys(campaignId, skuId));
        var sale = await TestSale.StartAsync(factory, stock, perUserLimit: 1, price: "120.00", campaignId: campaignId, skuId: skuId,
            coupons: $$"""[{"couponId":"{{couponId}}","discount":"20.00","minSpend":"100.00","quantity":{{coupons}},"perUserLimit":1}]""");
        Assert.NotEqual(HashSlot.Of(sale.Keys.Tag), HashSlot.Of(sale.Pool(couponId).Tag));

        var clients = Enumerable.Range(1, buyers).ToDictionary(i => (long)i + 6_000_000, i => factory.Buyer(i + 6_000_000));
        var outcomes = new ConcurrentBag<(long Buyer, HttpStatusCode Status, string Body)>();
        using var start = new ManualResetEventSlim();
        var attempts = clients.SelectMany(c => Enumerable.Range(0, attemptsPerBuyer).Select(a => Task.Run(async () =>
        {
            start.Wait();
            using var response = await sale.ReserveWithCouponAsync(c.Value, $"race-{c.Key}-{a}", couponId);
            outcomes.Add((c.Key, response.StatusCode, await response.Content.ReadAsStringAsync()));
        }))).ToList();
        start.Set();
        await Task.WhenAll(attempts);

        Assert.Equal(buyers * attemptsPerBuyer, outcomes.Count);
        var created = outcomes.Where(o => o.Status == HttpStatusCode.Created).ToList();
        Assert.Equal(coupons, created.Count);
        Assert.Equal(coupons, created.Select(c => c.Buyer).Distinct().Count());
        Assert.All(created, c =>
        {
            var body = JsonDocument.Parse(c.Body).RootElement;
            Assert.Equal(couponId, body.GetProperty("couponId").GetString());
            Assert.Equal("100.00", body.GetProperty("amount").GetString());
        });
        Assert.All(outcomes.Where(o => o.Status != HttpStatusCode.Created), r =>
        {
            Assert.Equal(HttpStatusCode.Conflict, r.Status);
            Assert.Contains("/coupon-unavailable\"", r.Body, StringComparison.Ordinal);
        });

        // Stock 70, pool 0, and nothing else held: 30 ledger entries each with its coupon, 30 locks, 30 buyers holding one each.
        var pool = sale.Pool(couponId);
        Assert.Equal(stock - coupons, await sale.AvailableAsync());
        Assert.Equal(0, await sale.PoolAsync(couponId));
        Assert.Equal(coupons, await sale.PoolAsync(couponId, "reserved"));
        Assert.Equal(0, await sale.PoolAsync(couponId, "sold"));
        Assert.Equal(coupons, await RedisLedger.LengthAsync(sale.Db, sale.Keys));
        Assert.Equal(coupons, await sale.Db.HashLengthAsync(CouponKeyspace.CouponsOf(sale.Keys)));
        var orderNos = created.Select(c => JsonDocument.Parse(c.Body).RootElement.GetProperty("orderNo").GetString()!).Order(StringComparer.Ordinal).ToList();
        var locks = await sale.Db.HashGetAllAsync(pool.Locks);
        Assert.Equal(orderNos, locks.Where(l => CouponLock.Parse(l.Value.ToString()).Holds).Select(l => l.Name.ToString()).Order(StringComparer.Ordinal));
        var holders = await sale.Db.HashGetAllAsync(pool.Users);
        Assert.Equal(coupons, holders.Length);
        Assert.All(holders, h => Assert.Equal(1, (int)h.Value));
        Assert.Equal(created.Select(c => c.Buyer.ToString(CultureInfo.InvariantCulture)).Order(StringComparer.Ordinal),
            holders.Select(h => h.Name.ToString()).Order(StringComparer.Ordinal));
        Assert.Equal(coupons, (await sale.Db.HashValuesAsync(sale.Keys.Users)).Length);

        foreach (var client in clients.Values)
        {
            client.Dispose();
        }
    }

    /// <summary>A coupon id whose pool is on another master than the SKU on a cluster (on one server: another slot).</summary>
    private async Task<string> CouponAwayFromAsync(SkuKeys sku)
    {
        var topology = await RedisTopology.ReadAsync(factory.Redis);
        var skuSlot = HashSlot.Of(sku.Tag);
        for (var i = 0; ; i++)
        {
            var couponId = "c" + i.ToString(CultureInfo.InvariantCulture);
            var slot = HashSlot.Of(new CouponKeys(sku.CampaignId, couponId).Tag);
            if (slot != skuSlot && (!topology.IsCluster || topology.PrimaryOfSlot(slot, couponId) != topology.PrimaryOf(sku)))
            {
                return couponId;
            }
        }
    }
}
