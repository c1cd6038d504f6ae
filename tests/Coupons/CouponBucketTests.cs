using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using FlashSale.Engine.Buckets;
using FlashSale.Engine.Redis;
using FlashSale.Tests.Infrastructure;

namespace FlashSale.Tests.Coupons;

/// <summary>
/// Coupons on a SKU split into stock buckets: the coupon's Try on its pool, the stock's Try in the buyer's bucket (where
/// transfers may have to bring units first). The pool's 20 coupons go to 20 buyers, whatever bucket each lands in; the
/// buckets together hold exactly the units those orders did not take; a cancel gives the unit back to the order's own
/// bucket and the coupon to the pool, once.
/// </summary>
[Collection(IngressCollection.Name)]
[Trait("Cluster", "yes")]
public sealed class CouponBucketTests(IngressFactory factory)
{
    private const int Buckets = 3;

    [Fact]
    public async Task TwentyCouponsOnASplitSkuGoToTwentyBuyersAndACancelReturnsBothToWhereTheyCameFrom()
    {
        const int stock = 60;
        const int coupons = 20;
        var sale = await TestSale.StartAsync(factory, stock, perUserLimit: 1, price: "120.00", buckets: Buckets,
            coupons: $$"""[{"couponId":"c20","discount":"20.00","minSpend":"100.00","quantity":{{coupons}},"perUserLimit":1}]""");

        var buyers = Enumerable.Range(1, 300).Select(i => 8_100_000L + i).ToList();
        var outcomes = new ConcurrentBag<(long Buyer, HttpStatusCode Status, string Body)>();
        await Parallel.ForEachAsync(buyers.SelectMany(b => new[] { (b, 0), (b, 1) }), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (attempt, token) =>
        {
            using var client = factory.Buyer(attempt.Item1);
            using var response = await sale.ReserveWithCouponAsync(client, $"cb-{attempt.Item1}-{attempt.Item2}", "c20");
            outcomes.Add((attempt.Item1, response.StatusCode, await response.Content.ReadAsStringAsync(token)));
        });

        var created = outcomes.Where(o => o.Status == HttpStatusCode.Created).ToList();
        Assert.Equal(coupons, created.Count);
        Assert.Equal(coupons, created.Select(c => c.Buyer).Distinct().Count());
        Assert.All(outcomes.Where(o => o.Status != HttpStatusCode.Created), o =>
        {
            Assert.Equal(HttpStatusCode.Conflict, o.Status);
            Assert.Contains("/coupon-unavailable\"", o.Body, StringComparison.Ordinal);
        });
        // Every bucket holds the orders of its own buyers, each with its coupon.
        foreach (var order in created)
        {
            var bucket = sale.Keys.AllBuckets(Buckets)[BucketRouting.BucketOf(order.Buyer, Buckets)];
            var orderNo = JsonDocument.Parse(order.Body).RootElement.GetProperty("orderNo").GetString()!;
            Assert.NotNull(await RedisLedger.RecordAsync(sale.Db, bucket, orderNo));
            var created201 = JsonDocument.Parse(order.Body).RootElement;
            Assert.Equal("100.00", created201.GetProperty("amount").GetString());
            Assert.Equal("c20", created201.GetProperty("couponId").GetString());
            Assert.Equal("20.00", created201.GetProperty("discount").GetString());
        }
        Assert.Equal(stock - coupons, await AvailableAsync(sale));
        Assert.Equal(0, await sale.PoolAsync("c20"));
        Assert.Equal(coupons, await sale.PoolAsync("c20", "reserved"));

        // One order cancelled: its unit back in its bucket, its coupon back in the pool; cancelling again changes nothing.
        Assert.Equal(coupons, await ShardOrders.PersistAsync(factory, sale, Buckets));
        var (buyer, body) = (created[0].Buyer, JsonDocument.Parse(created[0].Body).RootElement);
        var home = sale.Keys.AllBuckets(Buckets)[BucketRouting.BucketOf(buyer, Buckets)];
        var before = (long)await sale.Db.HashGetAsync(home.Meta, "available");
        using var owner = factory.Buyer(buyer);
        using var cancelled = await owner.PostAsync($"/api/v1/orders/{body.GetProperty("orderNo").GetString()}/cancel", null);
        using var again = await owner.PostAsync($"/api/v1/orders/{body.GetProperty("orderNo").GetString()}/cancel", null);
        Assert.Equal(HttpStatusCode.OK, cancelled.StatusCode);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(before + 1, (long)await sale.Db.HashGetAsync(home.Meta, "available"));
        Assert.Equal(stock - coupons + 1, await AvailableAsync(sale));
        Assert.Equal(1, await sale.PoolAsync("c20"));
        Assert.Equal(coupons - 1, await sale.PoolAsync("c20", "reserved"));
    }

    private static async Task<long> AvailableAsync(TestSale sale)
    {
        var total = 0L;
        foreach (var bucket in sale.BucketKeys(Buckets))
        {
            total += (long)await sale.Db.HashGetAsync(bucket.Meta, "available");
        }
        return total;
    }
}
