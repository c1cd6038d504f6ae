using System.Net;
using FlashSale.Engine.Fencing;
using FlashSale.Engine.Redis;
using FlashSale.Tests.Infrastructure;
using StackExchange.Redis;

namespace FlashSale.Tests.Buckets;

/// <summary>
/// One bucket of a split SKU comes back with less than it acknowledged — its keys restored from a copy taken earlier in
/// the sale, as a restore of its master from an older snapshot would leave them — while the other buckets lost nothing.
/// The decision sequence of that bucket is behind what the Ingress saw and what MySQL persisted, so the bucket is fenced;
/// and a fence in one bucket fences all of them until recovery has rebuilt the SKU: the forgotten orders adopted into
/// their bucket, the stock shared out again. The sale then sells exactly its stock, every acknowledged order once.
/// </summary>
[Collection(PipelineCollection.Name)]
[Trait("Category", "Slow")]
[Trait("Cluster", "yes")]
public sealed class BucketRollbackTests(BucketsFixture engine) : IClassFixture<BucketsFixture>
{
    private const int Buckets = 3;
    private const int Stock = 60;

    [Fact]
    public async Task ABucketThatForgotDecisionsFencesEveryBucketUntilTheSkuIsRebuiltAndTheSaleSellsExactlyItsStock()
    {
        var campaignId = TestSale.NewCampaignId();
        var skuId = ClusterSlots.SpreadSku(campaignId, (await RedisTopology.ReadAsync(engine.Redis)).Primaries, Buckets, first: 4001);
        var sale = await BucketSale.StartAsync(engine, campaignId, skuId, Stock, Buckets);
        var buyers = Enumerable.Range(0, 3).SelectMany(b => sale.BuyersOf(b, from: 9_000_000 + (b * 100_000), count: 40)).ToList();
        var successes = new List<long>();
        using var client = engine.Client();

        // 18 sold, six per bucket; then bucket 1 is copied as it stands.
        await SellAsync(sale, client, Pick(sale, buyers, perBucket: 6, skip: 0), successes);
        var forgotten = sale.Buckets[1];
        var copy = await DumpAsync(forgotten);

        // Six more per bucket, every one acknowledged (durable in Kafka) and persisted; then bucket 1 goes back to its copy.
        await SellAsync(sale, client, Pick(sale, buyers, perBucket: 6, skip: 6), successes);
        Assert.Equal(36, successes.Count);
        await engine.DrainAsync(campaignId, 36);
        var before = await RedisLedger.LengthAsync(engine.Db, forgotten);
        await RestoreAsync(forgotten, copy);
        Assert.Equal(before - 6, await RedisLedger.LengthAsync(engine.Db, forgotten));

        // The next buyer of bucket 1 meets a Redis behind the sequence its Ingress saw: that bucket is fenced, and then all
        // three. (The reconciler would find it behind MySQL's high-water mark as well.)
        var probe = await sale.ReserveOnceAsync(client, buyers.Where(b => BucketOf(sale, b) == 1).Last(), "probe");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, probe.Status);
        await Eventually.HoldsAsync(() => engine.Persister.Log.Contains("stock shared out again", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        await Eventually.HoldsAsync(async () => !(await FencedAsync(sale)).Any(f => f), TimeSpan.FromSeconds(60));

        // Rebuilt: the six forgotten orders are back in bucket 1's ledger, and the SKU's free units are 60 - 36.
        Assert.Equal(before, await RedisLedger.LengthAsync(engine.Db, forgotten));
        Assert.Equal(Stock - 36, (await sale.AvailableAsync()).Sum());
        Assert.Equal(0, await sale.OpenTransfersAsync());
        var totals = await Task.WhenAll(sale.Buckets.Select(async b => (long)await engine.Db.HashGetAsync(b.Meta, MetaFields.Total)));
        Assert.Equal(Stock, totals.Sum());

        // A retry of a forgotten order's key gets that order back; the rest of the sale sells exactly what is left.
        var retried = await sale.ReserveAsync(client, Pick(sale, buyers, perBucket: 6, skip: 6).First(b => BucketOf(sale, b) == 1), "sale-1");
        Assert.Equal(HttpStatusCode.OK, retried.Status);
        Assert.Contains(retried.OrderNo, successes);
        await SellAsync(sale, client, Pick(sale, buyers, perBucket: 28, skip: 12), successes, allowSoldOut: true);
        Assert.Equal(Stock, successes.Count);
        Assert.Equal(Stock, successes.Distinct().Count());
        Assert.Equal(new long[] { 0, 0, 0 }, await sale.AvailableAsync());

        var rows = await engine.DrainAsync(campaignId, Stock);
        Assert.Equal(successes.Order(), rows.Select(r => r.OrderNo).Order());
        var ledger = await sale.LedgerAsync();
        Assert.Equal(0, ledger.GetProperty("drift").GetInt64());
        Assert.Equal(Stock, ledger.GetProperty("redis").GetProperty("reserved").GetInt64());
        Assert.Equal(Stock, ledger.GetProperty("db").GetProperty("pending").GetInt64());
    }

    /// <summary>
    /// Each buyer once, with the key <c>sale-1</c>, retrying 503s; every answer a 201 (or a 200: the key's first attempt was
    /// decided, answered 503 while its Kafka confirmation outlasted the wait, and replayed on the retry), or a sold-out when allowed.
    /// </summary>
    private static async Task SellAsync(BucketSale sale, HttpClient client, IEnumerable<long> buyers, List<long> successes, bool allowSoldOut = false)
    {
        foreach (var buyer in buyers)
        {
            var outcome = await sale.ReserveAsync(client, buyer, "sale-1");
            if (outcome.Status is HttpStatusCode.Created or HttpStatusCode.OK)
            {
                successes.Add(outcome.OrderNo);
            }
            else
            {
                Assert.True(allowSoldOut && outcome.Status == HttpStatusCode.Conflict, $"{outcome.Status} for buyer {buyer}");
            }
        }
    }

    /// <summary>The buyers <paramref name="skip"/> to <paramref name="skip"/> + <paramref name="perBucket"/> of each bucket.</summary>
    private static IEnumerable<long> Pick(BucketSale sale, List<long> buyers, int perBucket, int skip)
        => Enumerable.Range(0, Buckets).SelectMany(b => buyers.Where(u => BucketOf(sale, u) == b).Skip(skip).Take(perBucket));

    private static int BucketOf(BucketSale sale, long buyer) => Engine.Buckets.BucketRouting.BucketOf(buyer, sale.Buckets.Length);

    private async Task<bool[]> FencedAsync(BucketSale sale)
        => await Task.WhenAll(sale.Buckets.Select(b => engine.Db.HashExistsAsync(b.Meta, MetaFields.Fenced)));

    /// <summary>Every key the bucket's decisions write, serialized (DUMP): what a snapshot of its master holds of it.</summary>
    private async Task<Dictionary<RedisKey, byte[]?>> DumpAsync(SkuKeys bucket)
    {
        var copy = new Dictionary<RedisKey, byte[]?>();
        foreach (var key in await LedgerLayout.AllKeysAsync(engine.Db, bucket))
        {
            copy[key] = await engine.Db.KeyDumpAsync(key);
        }
        return copy;
    }

    /// <summary>The bucket's keys as they were in the copy (those the copy did not have, gone).</summary>
    private async Task RestoreAsync(SkuKeys bucket, Dictionary<RedisKey, byte[]?> copy)
    {
        foreach (var (key, value) in copy)
        {
            await engine.Db.KeyDeleteAsync(key);
            if (value is not null)
            {
                await engine.Db.KeyRestoreAsync(key, value);
            }
        }
    }
}
