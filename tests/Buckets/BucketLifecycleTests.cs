using System.Globalization;
using System.Net;
using FlashSale.Engine.Buckets;
using FlashSale.Engine.Redis;
using FlashSale.Tests.Infrastructure;

namespace FlashSale.Tests.Buckets;

/// <summary>
/// A split SKU's orders after the reservation: a payment marks the order paid in the bucket that decided it, a cancel and
/// a failed payment give its units back to that bucket; the order reads back before and after it is persisted, and a
/// replay of its key answers it, also once the SKU sold out.
/// </summary>
[Collection(IngressCollection.Name)]
[Trait("Cluster", "yes")]
public sealed class BucketLifecycleTests(IngressFactory factory)
{
    private const int Buckets = 3;

    [Fact]
    public async Task PaymentsAndCancelsActInTheBucketThatDecidedTheOrder()
    {
        var sale = await TestSale.StartAsync(factory, stock: 6, perUserLimit: 1, price: "25.00", buckets: Buckets);
        var buckets = sale.BucketKeys(Buckets);
        // One buyer per bucket, each reserving the one unit they may, then a buyer of bucket 0 until the SKU is sold out.
        var buyers = Enumerable.Range(0, Buckets).Select(b => FirstBuyerOf(b, 7_500_000)).ToList();
        var orders = new List<string>();
        foreach (var buyer in buyers)
        {
            using var client = factory.Buyer(buyer);
            using var created = await sale.ReserveAsync(client, "life");
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var orderNo = (await created.JsonAsync()).GetProperty("orderNo").GetString()!;
            orders.Add(orderNo);
            // Read back before MySQL has it, from its bucket's ledger.
            var read = await (await client.GetAsync($"/api/v1/orders/{orderNo}")).JsonAsync();
            Assert.False(read.GetProperty("persisted").GetBoolean());
            Assert.Equal(sale.SkuId, read.GetProperty("skuId").GetInt64());
        }
        foreach (var (buyer, orderNo) in buyers.Zip(orders))
        {
            Assert.NotNull(await RedisLedger.RecordAsync(sale.Db, buckets[BucketRouting.BucketOf(buyer, Buckets)], orderNo));
        }
        await ShardOrders.PersistAsync(factory, sale, Buckets);
        // MySQL knows each order's bucket (the Kafka record's header, here the outbox it came from).
        foreach (var (buyer, orderNo) in buyers.Zip(orders))
        {
            Assert.Equal(BucketRouting.BucketOf(buyer, Buckets),
                await ShardOrders.ScalarAsync<int>(factory, long.Parse(orderNo, CultureInfo.InvariantCulture), "SELECT bucket FROM orders WHERE order_no = @orderNo"));
        }

        using var provider = factory.CreateClient();
        // Bucket 0's buyer pays: its ledger entry is paid, in bucket 0.
        using (var paid = await PaymentProvider.CallbackAsync(provider, orders[0], "txn-" + orders[0], "25.00"))
        {
            Assert.Equal("applied", (await paid.JsonAsync()).GetProperty("outcome").GetString());
        }
        Assert.EndsWith("|P", await RedisLedger.RecordAsync(sale.Db, buckets[0], orders[0]), StringComparison.Ordinal);
        // Bucket 1's buyer cancels, bucket 2's payment fails: each unit goes back to its own bucket.
        var before = await AvailableAsync(buckets);
        using (var buyer = factory.Buyer(buyers[1]))
        using (var cancelled = await buyer.PostAsync($"/api/v1/orders/{orders[1]}/cancel", null))
        {
            Assert.Equal(HttpStatusCode.OK, cancelled.StatusCode);
        }
        using (var failed = await PaymentProvider.CallbackAsync(provider, orders[2], "txn-" + orders[2], "25.00", "failed"))
        {
            Assert.Equal("failed", (await failed.JsonAsync()).GetProperty("outcome").GetString());
        }
        var after = await AvailableAsync(buckets);
        Assert.Equal([before[0], before[1] + 1, before[2] + 1], after);
        Assert.EndsWith("|C", await RedisLedger.RecordAsync(sale.Db, buckets[1], orders[1]), StringComparison.Ordinal);
        Assert.EndsWith("|C", await RedisLedger.RecordAsync(sale.Db, buckets[2], orders[2]), StringComparison.Ordinal);

        // Buyers of bucket 0 take what is left — their bucket's, then the others' — and the SKU sells out as one.
        var next = 7_600_000L;
        var sold = 0;
        while (true)
        {
            next = FirstBuyerOf(0, next + 1);
            using var client = factory.Buyer(next);
            using var response = await sale.ReserveAsync(client, "rest");
            if (response.StatusCode != HttpStatusCode.Created)
            {
                await response.AssertProblemAsync(HttpStatusCode.Conflict, "sold-out");
                break;
            }
            sold++;
        }
        Assert.Equal(after.Sum(), sold);
        Assert.Equal(new long[] { 0, 0, 0 }, await AvailableAsync(buckets));

        // Sold out everywhere: a replay of an order's key still answers it (its bucket's idempotency key), a new buyer does not get one.
        using (var owner = factory.Buyer(buyers[0]))
        using (var replay = await sale.ReserveAsync(owner, "life"))
        {
            Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
            Assert.Equal(orders[0], (await replay.JsonAsync()).GetProperty("orderNo").GetString());
        }
        using (var late = factory.Buyer(FirstBuyerOf(2, 7_700_000)))
        using (var refused = await sale.ReserveAsync(late, "late"))
        {
            await refused.AssertProblemAsync(HttpStatusCode.Conflict, "sold-out");
        }
    }

    private static long FirstBuyerOf(int bucket, long from)
    {
        var id = from;
        while (BucketRouting.BucketOf(id, Buckets) != bucket)
        {
            id++;
        }
        return id;
    }

    private async Task<long[]> AvailableAsync(SkuKeys[] buckets)
        => await Task.WhenAll(buckets.Select(async b => (long)await factory.Db.HashGetAsync(b.Meta, MetaFields.Available)));
}
