using System.Globalization;
using System.Net;
using FlashSale.Engine.Redis;
using FlashSale.Tests.Infrastructure;
using FlashSale.Tests.Reconciliation;

namespace FlashSale.Tests.Coupons;

/// <summary>
/// Coupon pools are fenced and rebuilt like SKUs: a Redis that comes back from an older snapshot (another run_id) has its
/// pools fenced with its SKUs, and recovery puts back every coupon of an order MySQL holds, so no coupon is given out twice
/// and a buyer's retry gets the same order with the same coupon. A pool behind the sequence an Ingress saw is fenced by
/// Try-coupon itself, and one behind what MySQL persisted by the reconciler.
/// </summary>
[Collection(PipelineCollection.Name)]
[Trait("Category", "Slow")]
public sealed class CouponRecoveryTests(SnapshotRedisFixture engine) : IClassFixture<SnapshotRedisFixture>
{
    private const long Sku = 1501;

    [Fact]
    public async Task ARedisBackFromAnOlderSnapshotIsRebuiltWithEveryCouponItForgot()
    {
        var campaignId = await StartSaleAsync(stock: 100, coupons: 50);
        var pool = new CouponKeys(campaignId, "c20");
        var before = await ReserveAsync(campaignId, 25_000, 10);
        await engine.DrainAsync(campaignId, before.Count);
        await engine.Redis.GetServer(engine.RedisEndpoint).ExecuteAsync("SAVE");
        var after = await ReserveAsync(campaignId, 26_000, 10);
        await engine.DrainAsync(campaignId, before.Count + after.Count);

        await engine.CrashAndRestartAsync();

        // Fenced with its SKU (another run_id), then rebuilt from MySQL: the ten coupons the snapshot forgot are held again
        // (by recovery, or by a reconciler round that came first), and none of those it kept.
        await Eventually.HoldsAsync(() => engine.Persister.Log.Contains($"coupon pool {pool.Member} rebuilt", StringComparison.Ordinal),
            TimeSpan.FromSeconds(60));
        await Eventually.HoldsAsync(async () => !await engine.Db.HashExistsAsync(pool.Meta, MetaFields.Fenced));
        Assert.All(after, a => Assert.Contains($"the coupon of order {a.OrderNo} was unknown to {pool.Member}", engine.Persister.Log, StringComparison.Ordinal));
        Assert.DoesNotContain(before, b => engine.Persister.Log.Contains($"the coupon of order {b.OrderNo} ", StringComparison.Ordinal));
        await SkuStates.WaitOnSaleAsync(engine.Client(), campaignId, Sku);
        Assert.Equal(30, (long)await engine.Db.HashGetAsync(pool.Meta, "available"));
        Assert.Equal(20, (long)await engine.Db.HashGetAsync(pool.Meta, "reserved"));
        Assert.Equal(80, (long)await engine.Db.HashGetAsync(new SkuKeys(campaignId, Sku).Meta, "available"));

        // A buyer whose reservation Redis forgot retries: the same order, with the same coupon, not a second one.
        var (buyer, orderNo) = after[0];
        using (var client = engine.Client(engine.Tokens.Mint(buyer)))
        using (var replay = await TestSale.SendReservationAsync(client, Path(campaignId), $"k-{buyer}", """{"quantity":1,"couponId":"c20"}"""))
        {
            Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
            var body = await replay.JsonAsync();
            Assert.Equal((orderNo, "c20"), (body.GetProperty("orderNo").GetString(), body.GetProperty("couponId").GetString()));
        }
        Assert.Equal(30, (long)await engine.Db.HashGetAsync(pool.Meta, "available"));

        // The rest of the pool sells exactly: thirty more coupons, then none.
        var rest = await ReserveAsync(campaignId, 27_000, 40);
        Assert.Equal(30, rest.Count);
        using var admin = engine.Client(engine.Tokens.Mint(1, admin: true));
        await Eventually.HoldsAsync(async () =>
        {
            var ledger = await (await admin.GetAsync($"/api/v1/admin/campaigns/{campaignId}/coupons/c20/ledger")).JsonAsync();
            return ledger.GetProperty("drift").GetInt64() == 0 && ledger.GetProperty("db").GetProperty("locked").GetInt64() == 50
                && ledger.GetProperty("redis").GetProperty("available").GetInt64() == 0;
        }, TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task APoolBehindWhatMySqlPersistedIsFencedAndRebuilt()
    {
        var campaignId = await StartSaleAsync(stock: 100, coupons: 50);
        var pool = new CouponKeys(campaignId, "c20");
        var sold = await ReserveAsync(campaignId, 28_000, 5);
        await engine.DrainAsync(campaignId, sold.Count);
        var highWater = (long)await engine.Db.HashGetAsync(pool.Meta, "seq");

        // A Redis that lost the pool's decisions, seen by the reconciler with the same run_id: a sequence behind MySQL's.
        await engine.Db.HashSetAsync(pool.Meta, "seq", 0);

        await Eventually.HoldsAsync(() => engine.Persister.Log.Contains(
            $"pool {pool.Member} fenced: its Redis sequence 0 is below {highWater}", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        await Eventually.HoldsAsync(async () => !await engine.Db.HashExistsAsync(pool.Meta, MetaFields.Fenced), TimeSpan.FromSeconds(30));
        Assert.True((long)await engine.Db.HashGetAsync(pool.Meta, "seq") > highWater);
        Assert.Equal(45, (long)await engine.Db.HashGetAsync(pool.Meta, "available"));
        Assert.Equal(5, (await ReserveAsync(campaignId, 29_000, 5)).Count);
    }

    [Fact]
    public async Task ATryCouponBehindWhatAnIngressSawFencesThePoolAndDecidesNothing()
    {
        var campaignId = await StartSaleAsync(stock: 100, coupons: 50);
        var pool = new CouponKeys(campaignId, "c20");
        var sold = await ReserveAsync(campaignId, 30_000, 3);
        Assert.Equal(3, sold.Count);
        // The pool forgets its last decision behind the engine's back (the reconciler's look at MySQL comes later).
        await engine.Db.HashIncrementAsync(pool.Meta, "seq", -1);

        using var client = engine.Client(engine.Tokens.Mint(30_100));
        using var refused = await TestSale.SendReservationAsync(client, Path(campaignId), "k", """{"quantity":1,"couponId":"c20"}""");

        // The Ingress that saw the later sequence passed it to Try-coupon, which fenced the pool in Redis.
        await refused.AssertProblemAsync(HttpStatusCode.ServiceUnavailable, "recovering");
        Assert.StartsWith("behind:", (string?)await engine.Db.HashGetAsync(pool.Meta, MetaFields.Fenced), StringComparison.Ordinal);
        Assert.Equal(47, (long)await engine.Db.HashGetAsync(pool.Meta, "available"));
        // Recovery rebuilds it (nothing was lost), and the buyer's retry goes through.
        await Eventually.HoldsAsync(async () => !await engine.Db.HashExistsAsync(pool.Meta, MetaFields.Fenced), TimeSpan.FromSeconds(30));
        Assert.Single(await ReserveAsync(campaignId, 30_100, 1));
    }

    private static string Path(string campaignId) => $"/api/v1/campaigns/{campaignId}/skus/{Sku}/reservations";

    /// <summary><paramref name="buyers"/> buyers from <paramref name="first"/>, each once with the coupon (retrying 503s with the same key); the orders made.</summary>
    private async Task<List<(long Buyer, string OrderNo)>> ReserveAsync(string campaignId, long first, int buyers)
    {
        var made = new List<(long, string)>();
        for (var buyer = first; buyer < first + buyers; buyer++)
        {
            using var client = engine.Client(engine.Tokens.Mint(buyer));
            using (var response = await TestSale.SendRetryingUnavailableAsync(client, Path(campaignId), $"k-{buyer}", """{"quantity":1,"couponId":"c20"}""", attempts: 121))
            {
                if (response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK)
                {
                    made.Add((buyer, (await response.JsonAsync()).GetProperty("orderNo").GetString()!));
                }
                else
                {
                    await response.AssertProblemAsync(HttpStatusCode.Conflict, "coupon-unavailable");
                }
            }
        }
        return made;
    }

    private async Task<string> StartSaleAsync(int stock, int coupons)
    {
        var campaignId = TestSale.NewCampaignId();
        using var admin = engine.Client(engine.Tokens.Mint(1, admin: true));
        var now = DateTimeOffset.UtcNow;
        using var created = await admin.PostAsync("/api/v1/admin/campaigns", TestSale.Json($$"""
            {"campaignId":"{{campaignId}}","startsAt":"{{TestSale.Iso(now.AddMinutes(-1))}}","endsAt":"{{TestSale.Iso(now.AddHours(1))}}",
             "paymentWindowSeconds":900,"skus":[{"skuId":{{Sku}},"price":"120.00","stock":{{stock}},"perUserLimit":1}],
             "coupons":[{"couponId":"c20","discount":"20.00","minSpend":"100.00","quantity":{{coupons}},"perUserLimit":1}]}
            """));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        using var warmed = await admin.PostAsync($"/api/v1/admin/campaigns/{campaignId}/warmup", null);
        Assert.Equal(HttpStatusCode.OK, warmed.StatusCode);
        return campaignId;
    }
}
