using System.Globalization;
using System.Net;
using FlashSale.Engine.Campaigns;
using FlashSale.Engine.Lifecycle;
using FlashSale.Engine.Redis;
using FlashSale.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace FlashSale.Tests.Coupons;

/// <summary>
/// A couponed order after its reservation: paying the discounted amount redeems the coupon, the full price is an amount
/// mismatch; a buyer's cancel, a failed payment and the payment-window timeout each give back the unit and the coupon,
/// exactly once, and the coupon is usable again at once. Orders reach MySQL through the engine's own batch writer.
/// </summary>
[Collection(IngressCollection.Name)]
[Trait("Cluster", "yes")]
public sealed class CouponLifecycleTests(IngressFactory factory)
{
    private const string Pool = """[{"couponId":"c20","discount":"20.00","minSpend":"100.00","quantity":3,"perUserLimit":1}]""";

    private async Task<(TestSale Sale, string OrderNo)> CouponedOrderAsync(long buyerId, int paymentWindowSeconds = 900, int stock = 5)
    {
        var sale = await TestSale.StartAsync(factory, stock, perUserLimit: 2, price: "199.00", paymentWindowSeconds: paymentWindowSeconds, coupons: Pool);
        var orderNo = await ReserveAsync(sale, buyerId, "k");
        return (sale, orderNo);
    }

    private async Task<string> ReserveAsync(TestSale sale, long buyerId, string key)
    {
        using var buyer = factory.Buyer(buyerId);
        using var created = await sale.ReserveWithCouponAsync(buyer, key, "c20");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        await ShardOrders.PersistAsync(factory, sale);
        return (await created.JsonAsync()).GetProperty("orderNo").GetString()!;
    }

    private static long Number(string orderNo) => long.Parse(orderNo, CultureInfo.InvariantCulture);

    [Fact]
    public async Task TheOrderIsStoredWithItsCouponAndItsLockIsLogged()
    {
        var (_, orderNo) = await CouponedOrderAsync(33_001);

        Assert.Equal("c20", await ShardOrders.ScalarAsync<string>(factory, Number(orderNo), "SELECT coupon_id FROM orders WHERE order_no = @orderNo"));
        Assert.Equal(20.00m, await ShardOrders.ScalarAsync<decimal>(factory, Number(orderNo), "SELECT discount FROM orders WHERE order_no = @orderNo"));
        Assert.Equal(179.00m, await ShardOrders.ScalarAsync<decimal>(factory, Number(orderNo), "SELECT amount FROM orders WHERE order_no = @orderNo"));
        Assert.Equal(1, await ShardOrders.ScalarAsync<int>(factory, Number(orderNo), "SELECT COUNT(*) FROM coupon_log WHERE order_no = @orderNo AND movement = 'lock'"));
        Assert.True(await ShardOrders.ScalarAsync<long>(factory, Number(orderNo), "SELECT coupon_seq FROM orders WHERE order_no = @orderNo") > 0);
    }

    [Fact]
    public async Task CancellingGivesBackTheUnitAndTheCouponOnceAndTheCouponIsUsableAgainAtOnce()
    {
        var (sale, orderNo) = await CouponedOrderAsync(33_002);
        using var buyer = factory.Buyer(33_002);
        Assert.Equal((4L, 2L), (await sale.AvailableAsync(), await sale.PoolAsync("c20")));

        using var cancelled = await buyer.PostAsync($"/api/v1/orders/{orderNo}/cancel", null);
        using var again = await buyer.PostAsync($"/api/v1/orders/{orderNo}/cancel", null);

        Assert.Equal(HttpStatusCode.OK, cancelled.StatusCode);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal((5L, 3L, 0L), (await sale.AvailableAsync(), await sale.PoolAsync("c20"), await sale.PoolAsync("c20", "reserved")));
        Assert.Equal(1, await ShardOrders.ScalarAsync<int>(factory, Number(orderNo), "SELECT COUNT(*) FROM coupon_log WHERE order_no = @orderNo AND movement = 'release'"));
        Assert.Equal(1, await ShardOrders.ScalarAsync<int>(factory, Number(orderNo), "SELECT stock_released FROM orders WHERE order_no = @orderNo"));
        // Releasing again (a retried scan) gives nothing back a second time.
        var lifecycle = factory.Services.GetRequiredService<OrderLifecycle>();
        await lifecycle.ReleaseCancelledAsync(new SkuKeys(sale.CampaignId, sale.SkuId), [(Number(orderNo), 1)], CancellationToken.None);
        Assert.Equal((5L, 3L), (await sale.AvailableAsync(), await sale.PoolAsync("c20")));

        // The same buyer (limit one coupon) takes it again at once.
        var rebought = await ReserveAsync(sale, 33_002, "k2");
        Assert.NotEqual(orderNo, rebought);
        Assert.Equal(2, await sale.PoolAsync("c20"));
    }

    [Fact]
    public async Task PayingTheDiscountedAmountRedeemsTheCouponAndTheFullPriceIsAnAmountMismatch()
    {
        var (sale, orderNo) = await CouponedOrderAsync(33_003);
        var second = await ReserveAsync(sale, 33_004, "k");
        using var provider = factory.CreateClient();

        using var fullPrice = await PaymentProvider.CallbackAsync(provider, second, "txn-full-" + second, "199.00");
        using var discounted = await PaymentProvider.CallbackAsync(provider, orderNo, "txn-" + orderNo, "179.00");

        await fullPrice.AssertProblemAsync(HttpStatusCode.Conflict, "amount-mismatch");
        Assert.Equal("PendingPayment", await ShardOrders.StatusAsync(factory, Number(second)));
        Assert.Equal(HttpStatusCode.OK, discounted.StatusCode);
        Assert.Equal("applied", (await discounted.JsonAsync()).GetProperty("outcome").GetString());
        Assert.Equal("Paid", await ShardOrders.StatusAsync(factory, Number(orderNo)));
        // Redeemed: out of the locked count into the redeemed one, for good.
        Assert.Equal((1L, 1L, 1L), (await sale.PoolAsync("c20"), await sale.PoolAsync("c20", "reserved"), await sale.PoolAsync("c20", "sold")));
        Assert.Equal(CouponLock.Redeemed, CouponLock.Parse((await sale.Db.HashGetAsync(sale.Pool("c20").Locks, orderNo)).ToString()).State);
        Assert.Equal(1, await ShardOrders.ScalarAsync<int>(factory, Number(orderNo), "SELECT COUNT(*) FROM coupon_log WHERE order_no = @orderNo AND movement = 'redeem'"));
        using var buyer = factory.Buyer(33_003);
        using var cancel = await buyer.PostAsync($"/api/v1/orders/{orderNo}/cancel", null);
        await cancel.AssertProblemAsync(HttpStatusCode.Conflict, "order-paid");
        Assert.Equal(1, await sale.PoolAsync("c20", "sold"));
    }

    [Fact]
    public async Task AFailedPaymentGivesBackTheUnitAndTheCoupon()
    {
        var (sale, orderNo) = await CouponedOrderAsync(33_005);
        using var provider = factory.CreateClient();

        using var failed = await PaymentProvider.CallbackAsync(provider, orderNo, "txn-failed-" + orderNo, "179.00", status: "failed");
        using var retried = await PaymentProvider.CallbackAsync(provider, orderNo, "txn-failed-" + orderNo, "179.00", status: "failed");

        Assert.Equal("failed", (await failed.JsonAsync()).GetProperty("outcome").GetString());
        Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
        Assert.Equal("Cancelled", await ShardOrders.StatusAsync(factory, Number(orderNo)));
        Assert.Equal((5L, 3L, 0L), (await sale.AvailableAsync(), await sale.PoolAsync("c20"), await sale.PoolAsync("c20", "reserved")));
    }

    [Fact]
    public async Task ThePaymentWindowTimeoutGivesBackTheUnitAndTheCoupon()
    {
        var (sale, orderNo) = await CouponedOrderAsync(33_006, paymentWindowSeconds: CampaignValidator.MinPaymentWindowSeconds);
        var deadline = DateTimeOffset.FromUnixTimeMilliseconds(CouponLock.Parse(
            (await sale.Db.HashGetAsync(sale.Pool("c20").Locks, orderNo)).ToString()).CreatedMs).AddSeconds(CampaignValidator.MinPaymentWindowSeconds + 1);
        var lifecycle = factory.Services.GetRequiredService<OrderLifecycle>();

        // The scan, run at the instant the window closed (a Persister would run it on its timer), until it finds nothing
        // more: the shared test shards may hold older orders due before this one, 500 per shard and scan.
        while (await lifecycle.CancelExpiredAsync(DateTimeOffset.UtcNow > deadline ? DateTimeOffset.UtcNow : deadline, 500, CancellationToken.None) > 0)
        {
        }
        await lifecycle.ReleasePendingAsync(500, CancellationToken.None);

        Assert.Equal("Cancelled", await ShardOrders.StatusAsync(factory, Number(orderNo)));
        Assert.Equal("payment-timeout", await ShardOrders.ScalarAsync<string>(factory, Number(orderNo),
            "SELECT reason FROM order_status_log WHERE order_no = @orderNo AND to_status = 'Cancelled'"));
        Assert.Equal((5L, 3L, 0L), (await sale.AvailableAsync(), await sale.PoolAsync("c20"), await sale.PoolAsync("c20", "reserved")));
        Assert.Equal(CouponLock.Released, CouponLock.Parse((await sale.Db.HashGetAsync(sale.Pool("c20").Locks, orderNo)).ToString()).State);
    }
}
