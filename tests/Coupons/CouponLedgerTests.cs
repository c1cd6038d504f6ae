using System.Globalization;
using System.Net;
using Dapper;
using FlashSale.Engine.Campaigns;
using FlashSale.Engine.Coupons;
using FlashSale.Engine.Reconciliation;
using FlashSale.Engine.Redis;
using FlashSale.Engine.Storage;
using FlashSale.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace FlashSale.Tests.Coupons;

/// <summary>
/// A coupon pool's ledger (Redis against the orders MySQL has with its coupons) and the reconciler's repairs of each kind of
/// drift: a live order's coupon the pool forgot, an orphaned Try, a cancelled order's coupon still held, a wrong count.
/// </summary>
[Collection(IngressCollection.Name)]
[Trait("Cluster", "yes")]
public sealed class CouponLedgerTests(IngressFactory factory)
{
    private const string Pool = """[{"couponId":"c20","discount":"20.00","minSpend":"100.00","quantity":10,"perUserLimit":1}]""";

    [Fact]
    public async Task TheLedgerHasTheIssuesShapeAndCountsAReservationOnItsWayAsInFlight()
    {
        var sale = await TestSale.StartAsync(factory, stock: 10, coupons: Pool);
        await ReserveAsync(sale, 34_001, 34_002);
        using var admin = factory.Admin();

        var before = await LedgerAsync(admin, sale);
        Assert.Equal(["total", "redis", "db", "inFlight", "drift", "checkedAt", "findings"], before.EnumerateObject().Select(p => p.Name));
        Assert.Equal(["available", "locked", "redeemed"], before.GetProperty("redis").EnumerateObject().Select(p => p.Name));
        Assert.Equal(["locked", "redeemed", "released"], before.GetProperty("db").EnumerateObject().Select(p => p.Name));
        Assert.Equal(10, before.GetProperty("total").GetInt64());
        Assert.Equal((8L, 2L, 0L), Redis(before));
        Assert.Equal((0L, 0L, 0L), Db(before));
        Assert.Equal((2L, 0L), (before.GetProperty("inFlight").GetInt64(), before.GetProperty("drift").GetInt64()));

        await ShardOrders.PersistAsync(factory, sale);
        var after = await LedgerAsync(admin, sale);
        Assert.Equal((2L, 0L, 0L), Db(after));
        Assert.Equal((0L, 0L), (after.GetProperty("inFlight").GetInt64(), after.GetProperty("drift").GetInt64()));
        Assert.Empty(after.GetProperty("findings").EnumerateArray());

        using var buyer = factory.Buyer(34_001);
        using var unknown = await admin.GetAsync(ApiPath(sale.CampaignId, "c99"));
        using var notAdmin = await buyer.GetAsync(ApiPath(sale.CampaignId, "c20"));
        await unknown.AssertProblemAsync(HttpStatusCode.NotFound, "not-found");
        await notAdmin.AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden");
    }

    [Fact]
    public async Task ALiveOrdersCouponThePoolForgotIsAdoptedBack()
    {
        var sale = await TestSale.StartAsync(factory, stock: 10, coupons: Pool);
        var orders = await ReserveAsync(sale, 34_011, 34_012);
        await ShardOrders.PersistAsync(factory, sale);
        // A minute later (the reconciler leaves orders younger than a second to the next walk),
        var shards = factory.Services.GetRequiredService<ShardDataSources>();
        foreach (var orderNo in orders)
        {
            await using var connection = await shards.OpenAsync(shards.OfOrder(orderNo), CancellationToken.None);
            await connection.ExecuteAsync("UPDATE orders SET created_at = created_at - INTERVAL 1 MINUTE WHERE order_no = @orderNo", new { orderNo });
        }
        // Redis came back without the first order's lock (an older state): the coupon looks free again.
        var pool = sale.Pool("c20");
        await sale.Db.HashDeleteAsync(pool.Locks, orders[0]);
        await sale.Db.HashDeleteAsync(pool.Users, 34_011);
        await sale.Db.SortedSetRemoveAsync(pool.Tried, orders[0]);
        await sale.Db.HashIncrementAsync(pool.Meta, "reserved", -1);
        await sale.Db.HashIncrementAsync(pool.Meta, "available", 1);

        var results = await Reconciler(graceMs: 0).ReconcileAsync(await CampaignAsync(sale), repair: true, CancellationToken.None);

        var result = Assert.Single(results);
        Assert.Contains(result.Before.Findings, f => f.Kind == CouponDriftKind.UnknownToPool && f.OrderNo == orders[0]);
        Assert.Equal(1, result.Repairs[CouponDriftKind.UnknownToPool]);
        Assert.Equal(0, result.After.Drift);
        Assert.Equal((8L, 2L), (await sale.PoolAsync("c20"), await sale.PoolAsync("c20", "reserved")));
        Assert.True(CouponLock.Parse((await sale.Db.HashGetAsync(pool.Locks, orders[0])).ToString()).Holds);
    }

    [Fact]
    public async Task AnOrphanedTryIsGivenBackAndItsOrderNumberBarred()
    {
        var sale = await TestSale.StartAsync(factory, stock: 10, coupons: Pool);
        // A Try-coupon two minutes ago whose Ingress never made its Try-stock.
        var orphan = Random.Shared.NextInt64(1L << 40, 1L << 60);
        var scripts = factory.Services.GetRequiredService<CouponScripts>();
        Assert.Equal(ScriptCode.Done, (await scripts.TryAsync(sale.Db, sale.Pool("c20"), orphan, 34_021, sale.SkuId, "k", 199_00, default)).Code);
        await AgeAsync(sale, orphan, TimeSpan.FromMinutes(2));

        var results = await Reconciler(graceMs: 60_000).ReconcileAsync(await CampaignAsync(sale), repair: true, CancellationToken.None);

        var result = Assert.Single(results);
        Assert.Contains(result.Before.Findings, f => f.Kind == CouponDriftKind.Orphan && f.OrderNo == orphan);
        Assert.Equal(1, result.Repairs[CouponDriftKind.Orphan]);
        Assert.Equal(0, result.After.Drift);
        Assert.Equal((10L, 0L), (await sale.PoolAsync("c20"), await sale.PoolAsync("c20", "reserved")));
        Assert.Equal(CouponKeyspace.Barred, (string?)await sale.Db.HashGetAsync(CouponKeyspace.CouponsOf(sale.Keys), orphan));
    }

    [Fact]
    public async Task ACancelledOrdersCouponStillHeldIsGivenBackOnceAndAWrongCountIsSet()
    {
        var sale = await TestSale.StartAsync(factory, stock: 10, coupons: Pool);
        var orders = await ReserveAsync(sale, 34_031, 34_032);
        await ShardOrders.PersistAsync(factory, sale);
        // Cancelled in MySQL a while ago, and its coupon never went back; and the pool's available count is off by three.
        var shards = factory.Services.GetRequiredService<ShardDataSources>();
        await using (var connection = await shards.OpenAsync(shards.OfOrder(orders[0]), CancellationToken.None))
        {
            await connection.ExecuteAsync("UPDATE orders SET status = 'Cancelled', updated_at = UTC_TIMESTAMP(3) - INTERVAL 5 MINUTE WHERE order_no = @order",
                new { order = orders[0] });
        }
        await sale.Db.HashIncrementAsync(sale.Pool("c20").Meta, "available", 3);

        var results = await Reconciler(graceMs: 60_000).ReconcileAsync(await CampaignAsync(sale), repair: true, CancellationToken.None);

        var result = Assert.Single(results);
        Assert.Contains(result.Before.Findings, f => f.Kind == CouponDriftKind.Unreleased && f.OrderNo == orders[0]);
        Assert.Contains(result.Before.Findings, f => f.Kind == CouponDriftKind.StockMismatch && f.Units == 3);
        Assert.Equal(0, result.After.Drift);
        Assert.Equal((9L, 1L), (await sale.PoolAsync("c20"), await sale.PoolAsync("c20", "reserved")));
        Assert.Equal((1L, 0L, 1L), (result.After.Db.Locked, result.After.Db.Redeemed, result.After.Db.Released));

        var again = Assert.Single(await Reconciler(graceMs: 60_000).ReconcileAsync(await CampaignAsync(sale), repair: true, CancellationToken.None));
        Assert.Empty(again.Repairs);
        Assert.Equal(9, await sale.PoolAsync("c20"));
    }

    /// <summary>Moves a tried lock's time back, as if its Try had been made <paramref name="age"/> ago.</summary>
    private static async Task AgeAsync(TestSale sale, long orderNo, TimeSpan age)
    {
        var pool = sale.Pool("c20");
        var lockRecord = CouponLock.Parse((await sale.Db.HashGetAsync(pool.Locks, orderNo)).ToString());
        var created = lockRecord.CreatedMs - (long)age.TotalMilliseconds;
        await sale.Db.HashSetAsync(pool.Locks, orderNo,
            string.Create(CultureInfo.InvariantCulture, $"{lockRecord.UserId}|{lockRecord.SkuId}|{lockRecord.DiscountMinor}|{created}|{lockRecord.State}"));
        await sale.Db.SortedSetAddAsync(pool.Tried, orderNo, created);
    }

    private CouponReconciler Reconciler(int graceMs) => new(
        factory.Db,
        factory.Services.GetRequiredService<ShardDataSources>(),
        factory.Services.GetRequiredService<CampaignStore>(),
        factory.Services.GetRequiredService<CouponScripts>(),
        factory.Services.GetRequiredService<CouponSweeper>(),
        factory.Services.GetRequiredService<ReconcilerMetrics>(),
        Options.Create(new ReconcilerOptions { GraceMs = graceMs }),
        TimeProvider.System,
        NullLogger<CouponReconciler>.Instance);

    private async Task<CampaignDefinition> CampaignAsync(TestSale sale)
        => (await factory.Services.GetRequiredService<CampaignStore>().GetAsync(sale.CampaignId, CancellationToken.None))!;

    private async Task<List<long>> ReserveAsync(TestSale sale, params long[] buyers)
    {
        var orders = new List<long>();
        foreach (var userId in buyers)
        {
            using var buyer = factory.Buyer(userId);
            using var created = await sale.ReserveWithCouponAsync(buyer, "k", "c20");
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            orders.Add(long.Parse((await created.JsonAsync()).GetProperty("orderNo").GetString()!, CultureInfo.InvariantCulture));
        }
        return orders;
    }

    private static string ApiPath(string campaignId, string couponId) => $"/api/v1/admin/campaigns/{campaignId}/coupons/{couponId}/ledger";

    private static async Task<System.Text.Json.JsonElement> LedgerAsync(HttpClient admin, TestSale sale)
    {
        using var response = await admin.GetAsync(ApiPath(sale.CampaignId, "c20"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.JsonAsync();
    }

    private static (long, long, long) Redis(System.Text.Json.JsonElement ledger)
    {
        var redis = ledger.GetProperty("redis");
        return (redis.GetProperty("available").GetInt64(), redis.GetProperty("locked").GetInt64(), redis.GetProperty("redeemed").GetInt64());
    }

    private static (long, long, long) Db(System.Text.Json.JsonElement ledger)
    {
        var db = ledger.GetProperty("db");
        return (db.GetProperty("locked").GetInt64(), db.GetProperty("redeemed").GetInt64(), db.GetProperty("released").GetInt64());
    }
}
