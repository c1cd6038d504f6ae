using FlashSale.Engine.Redis;
using FlashSale.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace FlashSale.Tests.Coupons;

/// <summary>
/// The coupon pool's TCC scripts driven directly: Try idempotent per order number (and per Idempotency-Key), Cancel exactly
/// once, and the two classic TCC faults — a Cancel for a Try that never happened (an empty rollback: succeeds, changes
/// nothing) and a Cancel that arrives before its Try (recorded, so the late Try is refused and no coupon hangs locked).
/// </summary>
[Collection(IngressCollection.Name)]
[Trait("Cluster", "yes")]
public sealed class CouponScriptTests(IngressFactory factory)
{
    private const string Coupon = "c20";

    // 20.00 off orders of 100.00 or more, one per buyer: the example.
    private const string Pool = """[{"couponId":"c20","discount":"20.00","minSpend":"100.00","quantity":5,"perUserLimit":1}]""";

    private CouponScripts Scripts => factory.Services.GetRequiredService<CouponScripts>();

    private static long NewOrderNo() => Random.Shared.NextInt64(1L << 40, 1L << 60);

    private Task<CouponTryReply> TryAsync(TestSale sale, long orderNo, long userId, string key = "k", long spend = 199_00)
        => Scripts.TryAsync(sale.Db, sale.Pool(Coupon), orderNo, userId, sale.SkuId, key, spend, default);

    /// <summary>Everything of the pool a Try or Cancel writes, to show that something changed nothing.</summary>
    private static async Task<string> PoolSnapshotAsync(TestSale sale)
    {
        var pool = sale.Pool(Coupon);
        var meta = await sale.Db.HashGetAllAsync(pool.Meta);
        return string.Join(";",
            string.Join(",", meta.OrderBy(e => e.Name.ToString(), StringComparer.Ordinal).Select(e => $"{e.Name}={e.Value}")),
            string.Join(",", (await sale.Db.HashGetAllAsync(pool.Users)).Select(e => $"{e.Name}={e.Value}")),
            await sale.Db.HashLengthAsync(pool.Idempotency),
            await sale.Db.SortedSetLengthAsync(pool.Tried));
    }

    [Fact]
    public async Task AnEmptyRollbackSucceedsAndChangesNothing()
    {
        var sale = await TestSale.StartAsync(factory, stock: 10, coupons: Pool);
        var before = await PoolSnapshotAsync(sale);
        var orderNo = NewOrderNo();

        Assert.Equal(CouponCancelOutcome.NothingTried, await Scripts.CancelAsync(sale.Db, sale.Pool(Coupon), orderNo));
        Assert.Equal(CouponCancelOutcome.AlreadyReleased, await Scripts.CancelAsync(sale.Db, sale.Pool(Coupon), orderNo));

        // The pool is as it was: the same coupons, counts, buyers, keys; only the cancel's record is new.
        Assert.Equal(before, await PoolSnapshotAsync(sale));
        Assert.Equal(5, await sale.PoolAsync(Coupon));
        var record = CouponLock.Parse((await sale.Db.HashGetAsync(sale.Pool(Coupon).Locks, orderNo)).ToString());
        Assert.Equal(CouponLock.CancelledUntried, record.State);
        Assert.False(record.Holds);
    }

    [Fact]
    public async Task ACancelBeforeItsTryMakesTheLateTryRefusedAndNothingHangs()
    {
        var sale = await TestSale.StartAsync(factory, stock: 10, coupons: Pool);
        var orderNo = NewOrderNo();
        Assert.Equal(CouponCancelOutcome.NothingTried, await Scripts.CancelAsync(sale.Db, sale.Pool(Coupon), orderNo));
        var afterCancel = await PoolSnapshotAsync(sale);

        var late = await TryAsync(sale, orderNo, 31_001);

        Assert.Equal(ScriptCode.CouponUnavailable, late.Code);
        Assert.Equal("cancelled", late.Reason);
        // Nothing locked: the coupon is still free, the buyer holds none, no key points at the order number.
        Assert.Equal(afterCancel, await PoolSnapshotAsync(sale));
        Assert.Equal(5, await sale.PoolAsync(Coupon));
        Assert.Equal(0, await sale.PoolAsync(Coupon, "reserved"));
        // And the same buyer's next attempt (another order number) gets a coupon as usual.
        Assert.Equal(ScriptCode.Done, (await TryAsync(sale, NewOrderNo(), 31_001, key: "k2")).Code);
    }

    [Fact]
    public async Task ATryIsIdempotentPerOrderNumberAndPerIdempotencyKey()
    {
        var sale = await TestSale.StartAsync(factory, stock: 10, coupons: Pool);
        var orderNo = NewOrderNo();

        var first = await TryAsync(sale, orderNo, 31_002);
        var again = await TryAsync(sale, orderNo, 31_002);
        // A retry with the same key allocates a new order number; the pool hands back the first one.
        var retry = await TryAsync(sale, NewOrderNo(), 31_002);

        Assert.Equal(ScriptCode.Done, first.Code);
        Assert.Equal(2000, first.DiscountMinor);
        Assert.Equal((ScriptCode.Replayed, orderNo, 2000L), (again.Code, again.OrderNo, again.DiscountMinor));
        Assert.Equal((ScriptCode.Replayed, orderNo), (retry.Code, retry.OrderNo));
        Assert.Equal(4, await sale.PoolAsync(Coupon));
        Assert.Equal(1, await sale.PoolAsync(Coupon, "reserved"));
        Assert.Equal(1, (long)await sale.Db.HashGetAsync(sale.Pool(Coupon).Users, 31_002));
        Assert.Equal(first.Position.Sequence, again.Position.Sequence);
    }

    [Fact]
    public async Task ACancelGivesTheCouponBackOnceAndItIsUsableAgainAtOnce()
    {
        var sale = await TestSale.StartAsync(factory, stock: 10, coupons: Pool);
        var orderNo = NewOrderNo();
        Assert.Equal(ScriptCode.Done, (await TryAsync(sale, orderNo, 31_003)).Code);
        Assert.Equal(ScriptCode.CouponUnavailable, (await TryAsync(sale, NewOrderNo(), 31_003, key: "other")).Code);

        Assert.Equal(CouponCancelOutcome.Released, await Scripts.CancelAsync(sale.Db, sale.Pool(Coupon), orderNo));
        Assert.Equal(CouponCancelOutcome.AlreadyReleased, await Scripts.CancelAsync(sale.Db, sale.Pool(Coupon), orderNo));

        Assert.Equal(5, await sale.PoolAsync(Coupon));
        Assert.Equal(0, await sale.PoolAsync(Coupon, "reserved"));
        Assert.False(await sale.Db.HashExistsAsync(sale.Pool(Coupon).Users, 31_003));
        // The buyer's limit is free again: the same buyer takes a coupon at once (a retry of the cancelled key is a new attempt).
        var retry = await TryAsync(sale, NewOrderNo(), 31_003);
        Assert.Equal(ScriptCode.Done, retry.Code);
        Assert.NotEqual(orderNo, retry.OrderNo);
        Assert.Equal(4, await sale.PoolAsync(Coupon));
    }

    [Fact]
    public async Task ARedeemedCouponIsNeverGivenBack()
    {
        var sale = await TestSale.StartAsync(factory, stock: 10, coupons: Pool);
        var orderNo = NewOrderNo();
        Assert.Equal(ScriptCode.Done, (await TryAsync(sale, orderNo, 31_004)).Code);

        Assert.Equal(CouponRedeemOutcome.Redeemed, await Scripts.RedeemAsync(sale.Db, sale.Pool(Coupon), orderNo));
        Assert.Equal(CouponRedeemOutcome.AlreadyRedeemed, await Scripts.RedeemAsync(sale.Db, sale.Pool(Coupon), orderNo));
        Assert.Equal(CouponCancelOutcome.Redeemed, await Scripts.CancelAsync(sale.Db, sale.Pool(Coupon), orderNo));

        Assert.Equal(4, await sale.PoolAsync(Coupon));
        Assert.Equal(0, await sale.PoolAsync(Coupon, "reserved"));
        Assert.Equal(1, await sale.PoolAsync(Coupon, "sold"));
        Assert.Equal(0, await sale.Db.SortedSetLengthAsync(sale.Pool(Coupon).Tried));
    }

    [Fact]
    public async Task ACouponThatCannotBeUsedIsRefusedWithItsReasonAndNothingChanges()
    {
        var sale = await TestSale.StartAsync(factory, stock: 10,
            coupons: """[{"couponId":"c20","discount":"20.00","minSpend":"100.00","quantity":1,"perUserLimit":1}]""");
        var before = await PoolSnapshotAsync(sale);

        Assert.Equal("min-spend", (await TryAsync(sale, NewOrderNo(), 31_005, spend: 99_99)).Reason);
        // Never free: at least the minimum, and above the discount.
        Assert.Equal(before, await PoolSnapshotAsync(sale));

        Assert.Equal(ScriptCode.Done, (await TryAsync(sale, NewOrderNo(), 31_005, spend: 100_00)).Code);
        var afterLock = await PoolSnapshotAsync(sale);
        Assert.Equal("limit", (await TryAsync(sale, NewOrderNo(), 31_005, key: "again")).Reason);
        Assert.Equal("empty", (await TryAsync(sale, NewOrderNo(), 31_006)).Reason);
        Assert.Equal(afterLock, await PoolSnapshotAsync(sale));
        var unknown = await Scripts.TryAsync(sale.Db, sale.Pool("no-such"), NewOrderNo(), 31_007, sale.SkuId, "k", 199_00, default);
        Assert.Equal(ScriptCode.NotWarmed, unknown.Code);
    }

    [Fact]
    public async Task ABarredOrderNumberRefusesALateTryStockAndAnExistingOrderIsNeverBarred()
    {
        var sale = await TestSale.StartAsync(factory, stock: 10, coupons: Pool);
        var skus = factory.Services.GetRequiredService<SkuScripts>();
        var orphan = NewOrderNo();
        Assert.Equal(ScriptCode.Done, (await TryAsync(sale, orphan, 31_008)).Code);

        // The sweep's order: bar the stock side, then give the coupon back.
        Assert.Equal(CouponBarOutcome.Barred, await Scripts.BarAsync(sale.Db, sale.Keys, orphan));
        Assert.Equal(CouponCancelOutcome.Released, await Scripts.CancelAsync(sale.Db, sale.Pool(Coupon), orphan));
        var snapshot = await sale.SnapshotAsync();

        // The Try-stock that hung until now is refused: no unit is taken for an order whose coupon went back.
        var late = await skus.ReserveManyAsync(sale.Db, SkuScripts.ReserveKeys(sale.Keys), sale.Keys,
            [new BatchRequest(31_008, "k", 1, orphan, new CouponUse(Coupon, 2000, 1))], default);
        Assert.Equal(ScriptCode.CouponUnavailable, late.Replies[0].Code);
        Assert.Equal(snapshot, await sale.SnapshotAsync());
        Assert.Equal(10, await sale.AvailableAsync());

        // An order that exists is never barred: its coupon stays with it.
        var kept = NewOrderNo();
        Assert.Equal(ScriptCode.Done, (await TryAsync(sale, kept, 31_009)).Code);
        var made = await skus.ReserveManyAsync(sale.Db, SkuScripts.ReserveKeys(sale.Keys), sale.Keys,
            [new BatchRequest(31_009, "k", 1, kept, new CouponUse(Coupon, 2000, 1))], default);
        Assert.Equal(ScriptCode.Done, made.Replies[0].Code);
        Assert.Equal(CouponBarOutcome.OrderExists, await Scripts.BarAsync(sale.Db, sale.Keys, kept));
        Assert.Equal(9, await sale.AvailableAsync());
    }
}
