using System.Net;
using FlashSale.Engine.Fencing;
using FlashSale.Engine.Redis;
using FlashSale.Engine.Reservations;
using FlashSale.Tests.Infrastructure;

namespace FlashSale.Tests.Buckets;

/// <summary>
/// A crash between the two steps of a stock transfer, made reproducible by the crash point
/// <c>Buckets:CrashAfterDonorStep</c>: the Ingress that moves units out of one bucket kills itself before they reach the
/// other. The units are then in neither bucket; the reconciler's next round finishes the transfer, and the sale goes on
/// to sell exactly its stock, every acknowledged order persisted once, drift 0.
/// </summary>
[Collection(PipelineCollection.Name)]
[Trait("Category", "Slow")]
[Trait("Cluster", "yes")]
public sealed class TransferCrashTests(BucketsFixture engine) : IClassFixture<BucketsFixture>
{
    private const int Buckets = 3;
    private const int Stock = 30;

    [Fact]
    public async Task ACrashBetweenTheDonorsAndTheReceiversStepLosesAndDuplicatesNothingOnceTheReconcilerRan()
    {
        var campaignId = TestSale.NewCampaignId();
        // On a cluster, the three buckets on the three masters: the transfer crosses masters.
        var skuId = ClusterSlots.SpreadSku(campaignId, (await RedisTopology.ReadAsync(engine.Redis)).Primaries, Buckets, first: 3001);
        var sale = await BucketSale.StartAsync(engine, campaignId, skuId, Stock, Buckets);
        Assert.Equal(new long[] { 10, 10, 10 }, await sale.AvailableAsync());

        // Buyers of bucket 0 alone, through an Ingress with the crash point on: ten buy bucket 0's units; the eleventh finds
        // it empty, its Ingress takes units out of another bucket, and dies before they arrive.
        var buyers = sale.BuyersOf(bucket: 0, from: 8_000_000, count: 40);
        var successes = new List<long>();
        await using (var crashing = EngineProcess.Listening("Ingress-crash-point", "Ingress",
            engine.Environment(("Engine__NodeId", "4"), ("Buckets__CrashAfterDonorStep", "true"))))
        {
            await crashing.StartAsync();
            using var client = new HttpClient { BaseAddress = crashing.Url, Timeout = TimeSpan.FromSeconds(30) };
            for (var i = 0; i < 10; i++)
            {
                // Retried with its key on a 503 (a fresh producer's first delivery may outlast the acknowledgement's wait).
                var outcome = await sale.ReserveAsync(client, buyers[i], $"crash-{i}");
                Assert.Contains(outcome.Status, new[] { HttpStatusCode.Created, HttpStatusCode.OK });
                successes.Add(outcome.OrderNo);
            }
            await Assert.ThrowsAsync<HttpRequestException>(() => sale.ReserveOnceAsync(client, buyers[10], "crash-10"));
            await Eventually.HoldsAsync(() => !crashing.IsRunning, TimeSpan.FromSeconds(10));
            await Eventually.HoldsAsync(() => crashing.Log.Contains("crash point: transfer", StringComparison.Ordinal), TimeSpan.FromSeconds(10));
        }

        // Half-done: the units left their donor and reached nobody. No unit is in two buckets.
        var open = (await Task.WhenAll(sale.Buckets.Select(b => SkuScripts.OpenTransfersAsync(engine.Db, b)))).SelectMany(t => t).ToList();
        var transfer = Assert.Single(open);
        Assert.Equal(0, transfer.ToBucket);
        var available = await sale.AvailableAsync();
        Assert.Equal(0, available[0]);
        Assert.Equal(Stock - 10 - transfer.Units, available.Sum());

        // The reconciler's next round finishes it: the units land in bucket 0, once.
        await Eventually.HoldsAsync(async () => await sale.OpenTransfersAsync() == 0, TimeSpan.FromSeconds(30));
        available = await sale.AvailableAsync();
        Assert.Equal(transfer.Units, available[0]);
        Assert.Equal(Stock - 10, available.Sum());
        await Eventually.HoldsAsync(() => engine.Persister.Log.Contains("was left half-done; finished it", StringComparison.Ordinal), TimeSpan.FromSeconds(10));

        // The sale goes on through the fixture's Ingress: the eleventh buyer's retry with its key, then buyers of every bucket.
        using (var client = engine.Client())
        {
            // The crashed Ingress decided nothing for this key; the retry decides it now. Created, or OK when the retry's first
            // answer was a 503 (its Kafka confirmation outlasted the wait on a loaded machine) and it was sent again.
            Assert.Null(BuyerRecord.Parse(await engine.Db.HashGetAsync(sale.Buckets[0].Users, buyers[10])).OrderOf("crash-10"));
            var retried = await sale.ReserveAsync(client, buyers[10], "crash-10");
            Assert.Contains(retried.Status, new[] { HttpStatusCode.Created, HttpStatusCode.OK });
            successes.Add(retried.OrderNo);
            var later = buyers.Skip(11).Concat(sale.BuyersOf(bucket: 1, from: 8_100_000, count: 10)).Concat(sale.BuyersOf(bucket: 2, from: 8_200_000, count: 10));
            foreach (var (buyer, i) in later.Select((b, i) => (b, i)))
            {
                var outcome = await sale.ReserveAsync(client, buyer, $"later-{i}");
                if (outcome.Status is HttpStatusCode.Created or HttpStatusCode.OK)
                {
                    successes.Add(outcome.OrderNo);
                }
                else
                {
                    Assert.Equal(HttpStatusCode.Conflict, outcome.Status);
                }
            }
        }

        Assert.Equal(Stock, successes.Count);
        Assert.Equal(Stock, successes.Distinct().Count());
        Assert.Equal(new long[] { 0, 0, 0 }, await sale.AvailableAsync());
        var rows = await engine.DrainAsync(campaignId, Stock);
        Assert.Equal(successes.Order(), rows.Select(r => r.OrderNo).Order());
        var ledger = await sale.LedgerAsync();
        Assert.Equal(0, ledger.GetProperty("drift").GetInt64());
        Assert.Equal(Stock, ledger.GetProperty("db").GetProperty("pending").GetInt64());
        Assert.Equal(0, ledger.GetProperty("redis").GetProperty("available").GetInt64());

        // The operator's tools see one SKU too: its whole stock, sold out; and nothing to reconcile.
        var status = await Reconciliation.Warmup.RunAsync(engine, "status", "--campaign", campaignId);
        Assert.True(status.ExitCode == 0, status.Output);
        var row = status.Output.Split('\n').Single(l => l.Contains(skuId.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
        Assert.Matches(@"\b30\b", row);
        Assert.Contains("sold out", row, StringComparison.Ordinal);
        var reconcile = await Reconciliation.Warmup.RunAsync(engine, "reconcile", "--campaign", campaignId);
        Assert.True(reconcile.ExitCode == 0, reconcile.Output);
    }
}
