using System.Globalization;
using System.Net;
using FlashSale.Engine.Reservations;
using FlashSale.Tests.Infrastructure;

namespace FlashSale.Tests.Lifecycle;

[Collection(IngressCollection.Name)]
[Trait("Cluster", "yes")]
public sealed class PaymentCallbackTests(IngressFactory factory)
{
    private async Task<(TestSale Sale, string OrderNo)> PersistedOrderAsync(long buyerId, int quantity = 1)
    {
        var sale = await TestSale.StartAsync(factory, stock: 10, perUserLimit: 5, price: "25.00");
        using var buyer = factory.Buyer(buyerId);
        using var created = await sale.ReserveAsync(buyer, "k", quantity);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        await ShardOrders.PersistAsync(factory, sale);
        return (sale, (await created.JsonAsync()).GetProperty("orderNo").GetString()!);
    }

    [Fact]
    public async Task SameCallbackFiveTimesRecordsOnePaymentAndPaysTheOrderOnce()
    {
        var (sale, orderNo) = await PersistedOrderAsync(6001);
        using var provider = factory.CreateClient();

        var answers = await Task.WhenAll(Enumerable.Range(0, 5).Select(async _ =>
        {
            using var response = await PaymentProvider.CallbackAsync(provider, orderNo, "txn-" + orderNo, "25.00");
            return (response.StatusCode, Body: await response.JsonAsync());
        }));

        Assert.All(answers, a =>
        {
            Assert.Equal(HttpStatusCode.OK, a.StatusCode);
            Assert.Equal("applied", a.Body.GetProperty("outcome").GetString());
        });
        var number = long.Parse(orderNo, CultureInfo.InvariantCulture);
        Assert.Equal("Paid", await ShardOrders.StatusAsync(factory, number));
        Assert.Equal(1, await ShardOrders.ScalarAsync<int>(factory, number, "SELECT COUNT(*) FROM payments WHERE order_no = @orderNo"));
        Assert.Equal(1, await ShardOrders.ScalarAsync<int>(factory, number, "SELECT COUNT(*) FROM order_status_log WHERE order_no = @orderNo AND to_status = 'Paid'"));
        Assert.Equal(1, await ShardOrders.ScalarAsync<int>(factory, number, "SELECT COUNT(*) FROM inventory_log WHERE order_no = @orderNo AND movement = 'confirm'"));
        Assert.EndsWith("|P", await RedisLedger.RecordAsync(sale.Db, sale.Keys, orderNo), StringComparison.Ordinal);
        Assert.Equal(9, await sale.AvailableAsync());
    }

    [Fact]
    public async Task ForgedSignatureOrStaleTimestampIsUnauthorizedAndChangesNothing()
    {
        var (_, orderNo) = await PersistedOrderAsync(6002);
        using var provider = factory.CreateClient();

        using var forged = await PaymentProvider.CallbackAsync(provider, orderNo, "txn-forged", "25.00", secret: "not-the-shared-secret-at-all");
        using var stale = await PaymentProvider.CallbackAsync(provider, orderNo, "txn-stale", "25.00", at: DateTimeOffset.UtcNow.AddMinutes(-6));
        using var future = await PaymentProvider.CallbackAsync(provider, orderNo, "txn-future", "25.00", at: DateTimeOffset.UtcNow.AddMinutes(6));
        var unsigned = new HttpRequestMessage(HttpMethod.Post, "/api/v1/payments/callbacks")
        {
            Content = TestSale.Json($$"""{"orderNo":"{{orderNo}}","providerTxnId":"txn-unsigned","amount":"25.00","status":"succeeded"}"""),
        };
        using var noSignature = await provider.SendAsync(unsigned);

        await forged.AssertProblemAsync(HttpStatusCode.Unauthorized, "invalid-signature");
        await stale.AssertProblemAsync(HttpStatusCode.Unauthorized, "invalid-signature");
        await future.AssertProblemAsync(HttpStatusCode.Unauthorized, "invalid-signature");
        await noSignature.AssertProblemAsync(HttpStatusCode.Unauthorized, "invalid-signature");
        var number = long.Parse(orderNo, CultureInfo.InvariantCulture);
        Assert.Equal("PendingPayment", await ShardOrders.StatusAsync(factory, number));
        Assert.Equal(0, await ShardOrders.ScalarAsync<int>(factory, number, "SELECT COUNT(*) FROM payments WHERE order_no = @orderNo"));
    }

    [Fact]
    public async Task WrongAmountIsRecordedRefusedAndLeavesTheOrderUnchanged()
    {
        var (_, orderNo) = await PersistedOrderAsync(6003);
        using var provider = factory.CreateClient();

        using var wrong = await PaymentProvider.CallbackAsync(provider, orderNo, "txn-wrong-" + orderNo, "24.99");
        using var again = await PaymentProvider.CallbackAsync(provider, orderNo, "txn-wrong-" + orderNo, "24.99");

        await wrong.AssertProblemAsync(HttpStatusCode.Conflict, "amount-mismatch");
        await again.AssertProblemAsync(HttpStatusCode.Conflict, "amount-mismatch");
        var number = long.Parse(orderNo, CultureInfo.InvariantCulture);
        Assert.Equal("PendingPayment", await ShardOrders.StatusAsync(factory, number));
        Assert.Equal("amount-mismatch", await ShardOrders.ScalarAsync<string>(factory, number, "SELECT outcome FROM payments WHERE order_no = @orderNo"));
    }

    [Fact]
    public async Task PaymentForACancelledOrderIsRefundRequiredAndListedForAdmins()
    {
        var (sale, orderNo) = await PersistedOrderAsync(6004);
        using var buyer = factory.Buyer(6004);
        using var cancelled = await buyer.PostAsync($"/api/v1/orders/{orderNo}/cancel", null);
        Assert.Equal(HttpStatusCode.OK, cancelled.StatusCode);
        using var provider = factory.CreateClient();

        using var late = await PaymentProvider.CallbackAsync(provider, orderNo, "txn-late-" + orderNo, "25.00");

        Assert.Equal(HttpStatusCode.OK, late.StatusCode);
        var body = await late.JsonAsync();
        Assert.Equal("refund-required", body.GetProperty("outcome").GetString());
        Assert.Equal("Cancelled", body.GetProperty("orderStatus").GetString());
        Assert.Equal("Cancelled", await ShardOrders.StatusAsync(factory, long.Parse(orderNo, CultureInfo.InvariantCulture)));
        Assert.Equal(10, await sale.AvailableAsync());

        using var admin = factory.Admin();
        var listing = await (await admin.GetAsync("/api/v1/admin/payments?outcome=refund-required&limit=500")).JsonAsync();
        Assert.Contains(listing.EnumerateArray(), p => p.GetProperty("orderNo").GetString() == orderNo && p.GetProperty("amount").GetString() == "25.00");
    }

    [Fact]
    public async Task FailedPaymentCancelsTheOrderAndReturnsItsStock()
    {
        var (sale, orderNo) = await PersistedOrderAsync(6005, quantity: 2);
        using var provider = factory.CreateClient();

        using var failed = await PaymentProvider.CallbackAsync(provider, orderNo, "txn-failed-" + orderNo, "50.00", status: "failed");

        Assert.Equal(HttpStatusCode.OK, failed.StatusCode);
        Assert.Equal("failed", (await failed.JsonAsync()).GetProperty("outcome").GetString());
        var number = long.Parse(orderNo, CultureInfo.InvariantCulture);
        Assert.Equal("Cancelled", await ShardOrders.StatusAsync(factory, number));
        Assert.Equal(1, await ShardOrders.ScalarAsync<int>(factory, number, "SELECT stock_released FROM orders WHERE order_no = @orderNo"));
        Assert.Equal(1, await ShardOrders.ScalarAsync<int>(factory, number, "SELECT COUNT(*) FROM inventory_log WHERE order_no = @orderNo AND movement = 'release'"));
        Assert.Equal(10, await sale.AvailableAsync());
        Assert.EndsWith("|C", await RedisLedger.RecordAsync(sale.Db, sale.Keys, orderNo), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CallbackForAnOrderStillOnItsWayAsksTheProviderToRetry()
    {
        var sale = await TestSale.StartAsync(factory, stock: 5);
        using var buyer = factory.Buyer(6006);
        using var created = await sale.ReserveAsync(buyer, "k");
        var orderNo = (await created.JsonAsync()).GetProperty("orderNo").GetString()!;
        using var provider = factory.CreateClient();

        using var early = await PaymentProvider.CallbackAsync(provider, orderNo, "txn-early-" + orderNo, "199.00");

        await early.AssertProblemAsync(HttpStatusCode.ServiceUnavailable, "order-not-yet-persisted");
        Assert.Equal("2", early.Headers.RetryAfter?.ToString());

        await ShardOrders.PersistAsync(factory, sale);
        using var retried = await PaymentProvider.CallbackAsync(provider, orderNo, "txn-early-" + orderNo, "199.00");
        Assert.Equal("applied", (await retried.JsonAsync()).GetProperty("outcome").GetString());
    }

    [Fact]
    public async Task CallbackForAnOrderThatCannotExistIsNotFound()
    {
        // An order number from a year ago that never reached MySQL is not "on its way".
        var old = new OrderNumberGenerator(9, new FixedTime(DateTimeOffset.UtcNow.AddYears(-1))).Next(42);
        using var provider = factory.CreateClient();

        using var response = await PaymentProvider.CallbackAsync(provider, old.ToString(CultureInfo.InvariantCulture), "txn-ghost", "1.00");

        await response.AssertProblemAsync(HttpStatusCode.NotFound, "not-found");
    }

    [Theory]
    [InlineData("""{"orderNo":"abc","providerTxnId":"t","amount":"1.00","status":"succeeded"}""")]
    [InlineData("""{"orderNo":"123","providerTxnId":"","amount":"1.00","status":"succeeded"}""")]
    [InlineData("""{"orderNo":"123","providerTxnId":"t","amount":"1.00","status":"maybe"}""")]
    [InlineData("""{"orderNo":"123","providerTxnId":"t","amount":"-1","status":"succeeded"}""")]
    [InlineData("""not json""")]
    public async Task MalformedSignedCallbackIsBadRequest(string body)
    {
        using var provider = factory.CreateClient();

        using var response = await PaymentProvider.SendAsync(provider, body);

        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid-callback");
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
