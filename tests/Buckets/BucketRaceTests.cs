using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text.Json;
using FlashSale.Engine.Buckets;
using FlashSale.Engine.Fencing;
using FlashSale.Engine.Redis;
using FlashSale.Tests.Infrastructure;

namespace FlashSale.Tests.Buckets;

/// <summary>
/// The race of <c>ReservationRaceTests</c> on a SKU split into three stock buckets: 2,000 attempts from 1,000 buyers for
/// 100 units, limit 1. The buyers are chosen so that demand is lopsided — most land in bucket 0, few in bucket 2 — so the
/// units bucket 2 starts with must move to where the buyers are (transfers), and the SKU sells out only when every
/// bucket is empty.
/// </summary>
[Collection(IngressCollection.Name)]
[Trait("Cluster", "yes")]
public sealed class BucketRaceTests(IngressFactory factory)
{
    private const int Buckets = 3;
    private const int Stock = 100;

    [Fact]
    public async Task TwoThousandAttemptsFromThousandBuyersSellExactlyTheStockAndEmptyEveryBucket()
    {
        var sale = await TestSale.StartAsync(factory, Stock, perUserLimit: 1, buckets: Buckets);
        Assert.Equal(new long[] { 34, 33, 33 }, await AvailableAsync(sale));
        if (TestEnvironment.IsCluster)
        {
            // Each bucket a slot of its own, here on a master of its own: the transfers cross masters.
            var topology = await RedisTopology.ReadAsync(factory.Redis);
            Assert.Equal(Buckets, sale.BucketKeys(Buckets).Select(b => topology.PrimaryOf(b).EndPoint).Distinct().Count());
        }

        var outcomes = await RaceAsync(sale, Buyers(7_000_000, 1_000));

        AssertSold(outcomes, Stock);
        Assert.Equal(new long[] { 0, 0, 0 }, await AvailableAsync(sale));
        await AssertLedgersAsync(sale, live: Stock);
        // Bucket 2 had 33 units and 20 attempts: its units had to move to where the buyers were.
        Assert.True(await TransfersAsync(sale) > 0);
        Assert.Equal(0, await OpenTransfersAsync(sale));

        Assert.Equal(Stock, await ShardOrders.PersistAsync(factory, sale, Buckets));
        var ledger = await LedgerAsync(sale);
        Assert.Equal(Stock, ledger.GetProperty("total").GetInt32());
        Assert.Equal(0, ledger.GetProperty("redis").GetProperty("available").GetInt64());
        Assert.Equal(Stock, ledger.GetProperty("redis").GetProperty("reserved").GetInt64());
        Assert.Equal(Stock, ledger.GetProperty("db").GetProperty("pending").GetInt64());
        Assert.Equal(0, ledger.GetProperty("inFlight").GetInt64());
        Assert.Equal(0, ledger.GetProperty("drift").GetInt64());

        // The public view sees one SKU.
        using var anyone = factory.CreateClient();
        var stock = await (await anyone.GetAsync($"/api/v1/campaigns/{sale.CampaignId}/skus/{sale.SkuId}")).JsonAsync();
        Assert.Equal(Stock, stock.GetProperty("total").GetInt32());
        Assert.Equal(0, stock.GetProperty("available").GetInt32());
        Assert.Equal("SoldOut", stock.GetProperty("state").GetString());
    }

    [Fact]
    public async Task StockReturningThroughCancellationsAfterTheBucketsRanDrySellsExactlyOnceMore()
    {
        var sale = await TestSale.StartAsync(factory, Stock, perUserLimit: 1, buckets: Buckets);
        var first = await RaceAsync(sale, Buyers(7_100_000, 1_000));
        var sold = AssertSold(first, Stock);
        Assert.Equal(new long[] { 0, 0, 0 }, await AvailableAsync(sale));
        Assert.Equal(Stock, await ShardOrders.PersistAsync(factory, sale, Buckets));

        // Up to 30 cancellations, all of orders bucket 1 decided: their units go back to bucket 1 alone, while 0 and 2 stay
        // dry. How many of the 100 units bucket 1's buyers got depends on how many of its units the transfers moved to
        // bucket 0 before its own buyers came (the batches' timing), so the test takes what there is, at least 10.
        var inBucketOne = sold.Where(s => BucketRouting.BucketOf(s.Buyer, Buckets) == 1).Take(30).ToList();
        var returned = inBucketOne.Count;
        Assert.InRange(returned, 10, 30);
        await Task.WhenAll(inBucketOne.Select(async s =>
        {
            using var buyer = factory.Buyer(s.Buyer);
            using var cancelled = await buyer.PostAsync($"/api/v1/orders/{s.OrderNo}/cancel", null);
            Assert.Equal(HttpStatusCode.OK, cancelled.StatusCode);
        }));
        Assert.Equal(new long[] { 0, returned, 0 }, await AvailableAsync(sale));

        // A second crowd, as lopsided (few buyers in bucket 1): the units returned go where the buyers are, and no further.
        var second = await RaceAsync(sale, Buyers(7_200_000, 1_000));
        var resold = AssertSold(second, returned);
        Assert.Empty(resold.Select(s => s.Buyer).Intersect(sold.Select(s => s.Buyer)));
        Assert.Equal(new long[] { 0, 0, 0 }, await AvailableAsync(sale));
        await AssertLedgersAsync(sale, live: Stock, cancelled: returned);
        Assert.Equal(0, await OpenTransfersAsync(sale));

        Assert.Equal(Stock + returned, await ShardOrders.PersistAsync(factory, sale, Buckets));
        var ledger = await LedgerAsync(sale);
        Assert.Equal(0, ledger.GetProperty("redis").GetProperty("available").GetInt64());
        Assert.Equal(Stock, ledger.GetProperty("redis").GetProperty("reserved").GetInt64());
        Assert.Equal(Stock, ledger.GetProperty("db").GetProperty("pending").GetInt64());
        Assert.Equal(returned, ledger.GetProperty("db").GetProperty("cancelled").GetInt64());
        Assert.Equal(0, ledger.GetProperty("inFlight").GetInt64());
        Assert.Equal(0, ledger.GetProperty("drift").GetInt64());
    }

    /// <summary>
    /// <paramref name="count"/> buyers from <paramref name="from"/> on, chosen by their bucket: 70% in bucket 0, 29% in
    /// bucket 1, 1% (10 buyers, 20 attempts for the 33 units it starts with) in bucket 2.
    /// </summary>
    private static List<long> Buyers(long from, int count)
    {
        int[] wanted = [count * 70 / 100, count * 29 / 100, count - (count * 70 / 100) - (count * 29 / 100)];
        var buyers = new List<long>(count);
        for (var id = from; buyers.Count < count; id++)
        {
            var bucket = BucketRouting.BucketOf(id, Buckets);
            if (wanted[bucket] > 0)
            {
                wanted[bucket]--;
                buyers.Add(id);
            }
        }
        return buyers;
    }

    /// <summary>Two attempts per buyer, each with a key of its own, all released at once.</summary>
    private async Task<List<(long Buyer, HttpStatusCode Status, string Body)>> RaceAsync(TestSale sale, List<long> buyers)
    {
        var clients = buyers.ToDictionary(b => b, factory.Buyer);
        var outcomes = new ConcurrentBag<(long Buyer, HttpStatusCode Status, string Body)>();
        using var start = new ManualResetEventSlim();
        var attempts = clients.SelectMany(c => Enumerable.Range(0, 2).Select(a => Task.Run(async () =>
        {
            start.Wait();
            using var response = await sale.ReserveAsync(c.Value, $"bucket-race-{c.Key}-{a}");
            outcomes.Add((c.Key, response.StatusCode, await response.Content.ReadAsStringAsync()));
        }))).ToList();
        start.Set();
        await Task.WhenAll(attempts);
        foreach (var client in clients.Values)
        {
            client.Dispose();
        }
        Assert.Equal(buyers.Count * 2, outcomes.Count);
        return [.. outcomes];
    }

    /// <summary>Exactly <paramref name="units"/> created, by as many buyers, each once; every other answer a sold-out or the limit.</summary>
    private static List<(long Buyer, long OrderNo)> AssertSold(List<(long Buyer, HttpStatusCode Status, string Body)> outcomes, int units)
    {
        var created = outcomes.Where(o => o.Status == HttpStatusCode.Created)
            .Select(o => (o.Buyer, OrderNo: long.Parse(JsonDocument.Parse(o.Body).RootElement.GetProperty("orderNo").GetString()!, CultureInfo.InvariantCulture)))
            .ToList();
        Assert.Equal(units, created.Count);
        Assert.Equal(units, created.Select(c => c.OrderNo).Distinct().Count());
        Assert.Equal(units, created.Select(c => c.Buyer).Distinct().Count());
        Assert.All(outcomes.Where(o => o.Status != HttpStatusCode.Created), r =>
        {
            Assert.Equal(HttpStatusCode.Conflict, r.Status);
            Assert.True(r.Body.Contains("/sold-out\"", StringComparison.Ordinal) || r.Body.Contains("/purchase-limit\"", StringComparison.Ordinal), r.Body);
        });
        return created;
    }

    private static async Task<long[]> AvailableAsync(TestSale sale)
        => await Task.WhenAll(sale.BucketKeys(Buckets).Select(async b => (long)await sale.Db.HashGetAsync(b.Meta, MetaFields.Available)));

    /// <summary>
    /// Every bucket is a SKU of its own: its ledger holds its buyers' orders only, its outbox carries exactly its ledger,
    /// its stock, reservations and sales add up to its total, and all the totals to the SKU's stock.
    /// </summary>
    private static async Task AssertLedgersAsync(TestSale sale, int live, int cancelled = 0)
    {
        long held = 0, released = 0, totals = 0;
        foreach (var bucket in sale.BucketKeys(Buckets))
        {
            var ledger = await RedisLedger.AllAsync(sale.Db, bucket);
            var records = ledger.Select(e => LedgerRecord.Parse(e.Value.ToString())).ToList();
            Assert.All(records, r => Assert.Equal(bucket.Bucket, BucketRouting.BucketOf(r.UserId, Buckets)));
            var carried = (await sale.Db.StreamRangeAsync(bucket.Outbox)).SelectMany(e => OutboxEntry.Read(e, bucket.Bucket).OrderNos).Order();
            Assert.Equal(ledger.Select(e => (long)e.Name).Order(), carried);
            held += records.Where(r => r.State == LedgerRecord.Reserved).Sum(r => r.Quantity);
            released += records.Count(r => r.State == LedgerRecord.Cancelled);
            var meta = await sale.Db.HashGetAsync(bucket.Meta, [MetaFields.Total, MetaFields.Available, MetaFields.Reserved, MetaFields.Sold]);
            Assert.Equal((long)meta[0], (long)meta[1] + (long)meta[2] + (long)meta[3]);
            totals += (long)meta[0];
        }
        Assert.Equal(live, held);
        Assert.Equal(cancelled, released);
        Assert.Equal(Stock, totals);
    }

    private static async Task<long> TransfersAsync(TestSale sale)
        => (await Task.WhenAll(sale.BucketKeys(Buckets).Select(b => sale.Db.HashLengthAsync(b.Transfers)))).Sum();

    private static async Task<long> OpenTransfersAsync(TestSale sale)
        => (await Task.WhenAll(sale.BucketKeys(Buckets).Select(b => sale.Db.HashLengthAsync(b.TransfersOpen)))).Sum();

    private async Task<JsonElement> LedgerAsync(TestSale sale)
    {
        using var admin = factory.Admin();
        using var response = await admin.GetAsync($"/api/v1/admin/campaigns/{sale.CampaignId}/skus/{sale.SkuId}/ledger");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.JsonAsync();
    }
}
