using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using Dapper;
using FlashSale.Engine.Redis;
using FlashSale.Tests.Infrastructure;
using MySqlConnector;

namespace FlashSale.Tests.Coupons;

/// <summary>The engine's processes with an orphan sweep that looks after two seconds (30 s by default).</summary>
public sealed class CouponPipelineFixture : PipelineFixture
{
    public const int OrphanGraceMs = 2_000;

    protected override IEnumerable<(string Key, string Value)> PersisterSettings()
        => [("Coupons__OrphanGraceMs", OrphanGraceMs.ToString(CultureInfo.InvariantCulture)), ("Coupons__SweepIntervalMs", "250")];
}

/// <summary>
/// Coupons with the real processes: couponed orders through Kafka into MySQL with their coupon, the payment-window timeout
/// giving back unit and coupon, and an Ingress killed between Try-coupon and Try-stock (a crash point configuration turns
/// on) whose coupon the Persister's sweep gives back: no order, drift 0.
/// </summary>
[Collection(PipelineCollection.Name)]
[Trait("Category", "Slow")]
[Trait("Cluster", "yes")]
public sealed class CouponProcessTests(CouponPipelineFixture engine) : IClassFixture<CouponPipelineFixture>
{
    private const long SkuId = 501;

    [Fact]
    public async Task CouponedOrdersReachMySqlWithTheirCouponAndEveryCountAgrees()
    {
        var campaignId = await StartSaleAsync(stock: 200, coupons: 40, paymentWindowSeconds: 900);
        var outcomes = new ConcurrentBag<(long Buyer, HttpStatusCode Status, string Body)>();
        await Parallel.ForEachAsync(Enumerable.Range(0, 100), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, _) =>
        {
            var buyer = 40_000 + i;
            using var client = engine.Client(engine.Tokens.Mint(buyer));
            outcomes.Add(await ReserveAsync(client, campaignId, buyer, $"k-{buyer}"));
        });

        var created = outcomes.Where(o => o.Status == HttpStatusCode.Created).ToList();
        Assert.Equal(40, created.Count);
        Assert.All(outcomes.Where(o => o.Status != HttpStatusCode.Created), o => Assert.Contains("/coupon-unavailable\"", o.Body, StringComparison.Ordinal));
        var rows = await engine.DrainAsync(campaignId, created.Count);
        Assert.Equal(40, rows.Count);
        Assert.All(rows, r => Assert.Equal(100.00m, r.Amount));
        var couponed = (await engine.Shards.QueryEveryShardAsync<string>(
            "SELECT coupon_id FROM orders WHERE campaign_id = @campaignId", new { campaignId }, CancellationToken.None));
        Assert.All(couponed, c => Assert.Equal("c20", c));
        var locksLogged = (await engine.Shards.QueryEveryShardAsync<int>(
            "SELECT COUNT(*) FROM coupon_log WHERE campaign_id = @campaignId AND movement = 'lock'", new { campaignId }, CancellationToken.None)).Sum();
        Assert.Equal(40, locksLogged);
        // The pool's high-water mark is the highest lock sequence any order carried; Redis is never below it.
        var highWater = (await engine.Shards.QueryEveryShardAsync<long>(
            "SELECT seq FROM coupon_high_water WHERE campaign_id = @campaignId AND coupon_id = 'c20'", new { campaignId }, CancellationToken.None)).Max();
        Assert.InRange(highWater, 40, (long)await engine.Db.HashGetAsync(new CouponKeys(campaignId, "c20").Meta, "seq"));
        await Eventually.HoldsAsync(async () => await CouponCountersAsync(campaignId) == (40, 0, 0));

        var ledger = await PoolLedgerAsync(campaignId);
        Assert.Equal((0L, 0L), (ledger.GetProperty("drift").GetInt64(), ledger.GetProperty("inFlight").GetInt64()));
        Assert.Equal(40, ledger.GetProperty("db").GetProperty("locked").GetInt64());
        Assert.Equal(0, ledger.GetProperty("redis").GetProperty("available").GetInt64());

        // The operator's tools show the pool: warmup status, and warmup reconcile with its ledger.
        var status = await Reconciliation.Warmup.RunAsync(engine, "status", "--campaign", campaignId);
        Assert.Equal(0, status.ExitCode);
        Assert.Contains("Coupon pool", status.Output, StringComparison.Ordinal);
        Assert.Matches(@"c20\s.*20\.00\s.*100\.00\s.*40\s.*0\s.*exhausted", status.Output);
        var reconcile = await Reconciliation.Warmup.RunAsync(engine, "reconcile", "--campaign", campaignId);
        Assert.True(reconcile.ExitCode == 0, reconcile.Output);
        Assert.Contains("1 coupon pool(s)", reconcile.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ThePaymentWindowTimeoutGivesBackTheUnitAndTheCoupon()
    {
        var campaignId = await StartSaleAsync(stock: 5, coupons: 3, paymentWindowSeconds: 1);
        using var client = engine.Client(engine.Tokens.Mint(41_001));
        var reserved = await ReserveAsync(client, campaignId, 41_001, "k");
        Assert.Equal(HttpStatusCode.Created, reserved.Status);
        var pool = new CouponKeys(campaignId, "c20");
        Assert.Equal(2, (long)await engine.Db.HashGetAsync(pool.Meta, "available"));

        // The Persister persists the order, its scan cancels it once the window closed, and gives both back.
        await Eventually.HoldsAsync(async () => (await engine.OrdersAsync(campaignId)).SingleOrDefault()?.Status == "Cancelled", TimeSpan.FromSeconds(60));
        await Eventually.HoldsAsync(async () => (long)await engine.Db.HashGetAsync(pool.Meta, "available") == 3);
        Assert.Equal(5, (long)await engine.Db.HashGetAsync(new SkuKeys(campaignId, SkuId).Meta, "available"));
        Assert.Equal(0, (long)await engine.Db.HashGetAsync(pool.Meta, "reserved"));
        await Eventually.HoldsAsync(async () => await CouponCountersAsync(campaignId) == (1, 0, 1));
    }

    [Fact]
    public async Task AnIngressKilledBetweenTheTwoTriesStrandsNoCouponTheSweepGivesItBack()
    {
        var campaignId = await StartSaleAsync(stock: 10, coupons: 5, paymentWindowSeconds: 900);
        var pool = new CouponKeys(campaignId, "c20");
        var sku = new SkuKeys(campaignId, SkuId);
        await using var crashing = EngineProcess.Listening("Ingress-crash-between-tries", "Ingress",
            engine.Environment(("Engine__NodeId", "5"), ("Coupons__CrashPoint", "between-tries")));
        await crashing.StartAsync();
        using (var buyer = new HttpClient { BaseAddress = crashing.Url, Timeout = TimeSpan.FromSeconds(30) })
        {
            buyer.DefaultRequestHeaders.Authorization = new("Bearer", engine.Tokens.Mint(42_001));
            // The Ingress locks a coupon and dies before it takes the unit: the buyer gets no answer.
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => TestSale.SendReservationAsync(buyer,
                $"/api/v1/campaigns/{campaignId}/skus/{SkuId}/reservations", "crash-key", """{"quantity":1,"couponId":"c20"}"""));
        }
        await Eventually.HoldsAsync(() => !crashing.IsRunning, TimeSpan.FromSeconds(10));
        var orphan = Assert.Single(await engine.Db.HashGetAllAsync(pool.Locks));
        Assert.Equal(CouponLock.Tried, CouponLock.Parse(orphan.Value.ToString()).State);
        Assert.Equal(10, (long)await engine.Db.HashGetAsync(sku.Meta, "available"));

        // The Persister's sweep, once the lock is older than its grace: the stock side barred, the coupon back.
        await Eventually.HoldsAsync(async () => (long)await engine.Db.HashGetAsync(pool.Meta, "available") == 5, TimeSpan.FromSeconds(30));
        Assert.Equal(0, (long)await engine.Db.HashGetAsync(pool.Meta, "reserved"));
        Assert.Equal(CouponLock.Released, CouponLock.Parse((await engine.Db.HashGetAsync(pool.Locks, orphan.Name)).ToString()).State);
        Assert.Equal(CouponKeyspace.Barred, (string?)await engine.Db.HashGetAsync(CouponKeyspace.CouponsOf(sku), orphan.Name));
        Assert.Equal(0, await RedisLedger.LengthAsync(engine.Db, sku));
        Assert.Empty(await engine.OrdersAsync(campaignId));
        Assert.Equal(10, (long)await engine.Db.HashGetAsync(sku.Meta, "available"));
        var ledger = await PoolLedgerAsync(campaignId);
        Assert.Equal((0L, 0L, 5L), (ledger.GetProperty("drift").GetInt64(), ledger.GetProperty("inFlight").GetInt64(),
            ledger.GetProperty("redis").GetProperty("available").GetInt64()));
        using (var admin = engine.Client(engine.Tokens.Mint(1, admin: true)))
        {
            var skuLedger = await (await admin.GetAsync($"/api/v1/admin/campaigns/{campaignId}/skus/{SkuId}/ledger")).JsonAsync();
            Assert.Equal(0, skuLedger.GetProperty("drift").GetInt64());
        }

        // The buyer's retry with the same key, on a healthy Ingress, is a new attempt that gets unit and coupon.
        using var retrying = engine.Client(engine.Tokens.Mint(42_001));
        var retry = await ReserveAsync(retrying, campaignId, 42_001, "crash-key");
        Assert.Equal(HttpStatusCode.Created, retry.Status);
        Assert.Equal(4, (long)await engine.Db.HashGetAsync(pool.Meta, "available"));
    }

    private static async Task<(long Buyer, HttpStatusCode Status, string Body)> ReserveAsync(HttpClient client, string campaignId, long buyer, string key)
    {
        var path = $"/api/v1/campaigns/{campaignId}/skus/{SkuId}/reservations";
        const string body = """{"quantity":1,"couponId":"c20"}""";
        // A buyer answered 503 retries with the same key, as a real client does.
        using (var response = await TestSale.SendRetryingUnavailableAsync(client, path, key, body, attempts: 101))
        {
            return (buyer, response.StatusCode, await response.Content.ReadAsStringAsync());
        }
    }

    private async Task<string> StartSaleAsync(int stock, int coupons, int paymentWindowSeconds)
    {
        var campaignId = TestSale.NewCampaignId();
        using var admin = engine.Client(engine.Tokens.Mint(1, admin: true));
        var now = DateTimeOffset.UtcNow;
        using var created = await admin.PostAsync("/api/v1/admin/campaigns", TestSale.Json($$"""
            {"campaignId":"{{campaignId}}","startsAt":"{{TestSale.Iso(now.AddMinutes(-1))}}","endsAt":"{{TestSale.Iso(now.AddHours(1))}}",
             "paymentWindowSeconds":{{paymentWindowSeconds}},
             "skus":[{"skuId":{{SkuId}},"price":"120.00","stock":{{stock}},"perUserLimit":1}],
             "coupons":[{"couponId":"c20","discount":"20.00","minSpend":"100.00","quantity":{{coupons}},"perUserLimit":1}]}
            """));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        using var warmed = await admin.PostAsync($"/api/v1/admin/campaigns/{campaignId}/warmup", null);
        Assert.Equal(HttpStatusCode.OK, warmed.StatusCode);
        return campaignId;
    }

    private async Task<System.Text.Json.JsonElement> PoolLedgerAsync(string campaignId)
    {
        using var admin = engine.Client(engine.Tokens.Mint(1, admin: true));
        using var response = await admin.GetAsync($"/api/v1/admin/campaigns/{campaignId}/coupons/c20/ledger");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.JsonAsync();
    }

    private async Task<(long Locked, long Redeemed, long Released)> CouponCountersAsync(string campaignId)
    {
        await using var connection = new MySqlConnection(TestEnvironment.MySql(engine.CatalogDatabase));
        return await connection.QuerySingleOrDefaultAsync<(long, long, long)>(
            "SELECT locked, redeemed, released FROM campaign_coupon_counters WHERE campaign_id = @campaignId AND coupon_id = 'c20'", new { campaignId });
    }
}
