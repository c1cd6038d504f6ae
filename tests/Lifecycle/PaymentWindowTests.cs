using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using Dapper;
using FlashSale.Engine.Campaigns;
using FlashSale.Engine.Lifecycle;
using FlashSale.Engine.Orders;
using FlashSale.Engine.Reservations;
using FlashSale.Engine.Storage;
using FlashSale.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace FlashSale.Tests.Lifecycle;

// No Persister runs in process: these tests run the payment-window scan themselves, at the instant the
// windows close (or later, if that has passed), so nothing waits for a real window to pass. They share the
// in-process Ingress (one collection, one at a time): a scan at a moved clock cancels every order due by then,
// which reaches no other test's orders (900 s windows) within the 30 s these windows have. A host of their own
// would be disposed while the others still run, and that ends the other host's metric streams of the same names.
[Collection(IngressCollection.Name)]
[Trait("Cluster", "yes")]
public sealed class PaymentDeadlineRaceTests(IngressFactory factory)
{
    private const int Orders = 300;

    // Paid before any scan runs, and sent after the scans ended: these two groups end Paid and refund-required
    // whatever the timing; the orders between them race their payment against the timeout.
    private const int PaidFirst = 30;
    private const int PaidLast = 30;

    [Fact]
    public async Task CallbacksRacingTheirDeadlineEndPaidOrCancelledNeverBoth()
    {
        var sale = await TestSale.StartAsync(factory, stock: Orders, perUserLimit: 1, price: "10.00", paymentWindowSeconds: CampaignValidator.MinPaymentWindowSeconds);
        var reserved = new ConcurrentBag<(long OrderNo, DateTimeOffset Deadline)>();
        await Parallel.ForEachAsync(Enumerable.Range(0, Orders), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, _) =>
        {
            using var buyer = factory.Buyer(8_000_000 + i);
            using var created = await sale.ReserveAsync(buyer, "k");
            var body = await created.JsonAsync();
            reserved.Add((long.Parse(body.GetProperty("orderNo").GetString()!, CultureInfo.InvariantCulture),
                DateTimeOffset.Parse(body.GetProperty("paymentDeadline").GetString()!, CultureInfo.InvariantCulture)));
        });
        Assert.Equal(Orders, reserved.Count);
        Assert.Equal(Orders, await ShardOrders.PersistAsync(factory, sale));
        var orders = reserved.OrderBy(r => r.OrderNo).Select(r => r.OrderNo).ToList();
        // The scan's clock: every order of this sale is due, however long the set-up took.
        var expiry = reserved.Max(r => r.Deadline);
        DateTimeOffset ScanClock() => DateTimeOffset.UtcNow > expiry ? DateTimeOffset.UtcNow : expiry;

        using var provider = factory.CreateClient();
        async Task<string> PayAsync(long orderNo)
        {
            using var response = await PaymentProvider.CallbackAsync(provider, orderNo.ToString(CultureInfo.InvariantCulture), $"txn-race-{orderNo}", "10.00");
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(HttpStatusCode.OK == response.StatusCode, body);
            return (await response.JsonAsync()).GetProperty("outcome").GetString()!;
        }

        foreach (var orderNo in orders.Take(PaidFirst))
        {
            Assert.Equal("applied", await PayAsync(orderNo));
        }

        // The scan runs back to back while each racing order's payment arrives; it stops once it finds nothing more
        // to cancel and every racing payment was answered (orders of earlier runs that are due are cancelled on the way).
        var lifecycle = factory.Services.GetRequiredService<OrderLifecycle>();
        var racing = orders.Skip(PaidFirst).Take(Orders - PaidFirst - PaidLast).ToList();
        var paying = Task.WhenAll(racing.Select(orderNo => Task.Run(() => PayAsync(orderNo))));
        var scans = 0;
        await Eventually.HoldsAsync(async () =>
        {
            scans++;
            var cancelled = await lifecycle.CancelExpiredAsync(ScanClock(), 500, CancellationToken.None);
            return cancelled == 0 && paying.IsCompleted;
        });
        Assert.All(await paying, outcome => Assert.True(outcome is "applied" or "refund-required", outcome));

        foreach (var orderNo in orders.Skip(Orders - PaidLast))
        {
            Assert.Equal("refund-required", await PayAsync(orderNo));
        }

        var shards = factory.Services.GetRequiredService<ShardDataSources>();
        var states = await shards.QueryEveryShardAsync<(long OrderNo, string Status, int Transitions, string Outcome)>("""
            SELECT o.order_no, o.status,
                   (SELECT COUNT(*) FROM order_status_log l WHERE l.order_no = o.order_no AND l.to_status IN ('Paid', 'Cancelled')),
                   (SELECT p.outcome FROM payments p WHERE p.order_no = o.order_no)
            FROM orders o WHERE o.campaign_id = @campaignId
            """, new { sale.CampaignId }, CancellationToken.None);

        Assert.Equal(Orders, states.Count);
        Assert.All(states, s =>
        {
            Assert.Equal(1, s.Transitions);
            Assert.Equal(s.Status == "Paid" ? "applied" : "refund-required", s.Outcome);
            Assert.True(s.Status is "Paid" or "Cancelled", s.Status);
        });
        var paid = states.Count(s => s.Status == "Paid");
        Assert.InRange(paid, PaidFirst, Orders - PaidLast);
        // Stock came back for exactly the cancelled orders: available + live orders == total.
        Assert.Equal(Orders - paid, await sale.AvailableAsync());
        var ledger = await RedisLedger.AllAsync(sale.Db, sale.Keys);
        Assert.Equal(Orders - paid, ledger.Count(e => e.Value.ToString().EndsWith("|C", StringComparison.Ordinal)));
        Assert.True(scans > 1, "the scan never ran beside the payments");
    }
}

[Collection(IngressCollection.Name)]
[Trait("Cluster", "yes")]
public sealed class TimeoutReleaseTests(IngressFactory factory)
{
    [Fact]
    public async Task UnitReleasedByTheTimeoutCanBeBoughtAtOnceAfterSellOut()
    {
        var sale = await TestSale.StartAsync(factory, stock: 1, price: "10.00", paymentWindowSeconds: CampaignValidator.MinPaymentWindowSeconds);
        using var first = factory.Buyer(9001);
        using var second = factory.Buyer(9002);
        using var created = await sale.ReserveAsync(first, "k");
        var order = await created.JsonAsync();
        var deadline = DateTimeOffset.Parse(order.GetProperty("paymentDeadline").GetString()!, CultureInfo.InvariantCulture);
        var orderNo = long.Parse(order.GetProperty("orderNo").GetString()!, CultureInfo.InvariantCulture);
        Assert.Equal(1, await ShardOrders.PersistAsync(factory, sale));
        var cache = factory.Services.GetRequiredService<SoldOutCache>();
        var request = new ReservationRequest(sale.CampaignId, sale.SkuId, 9002, "k", 1);
        // Each sold-out answer from Redis renews or (re)loads the Ingress's in-memory snapshot.
        await Eventually.HoldsAsync(async () =>
        {
            using var refused = await sale.ReserveAsync(second, "k");
            await refused.AssertProblemAsync(HttpStatusCode.Conflict, "sold-out");
            return cache.IsSoldOutFor(request);
        }, TimeSpan.FromSeconds(10));

        // What the Persister's scan does each second, run at the order's deadline (or later, if that has passed).
        var lifecycle = factory.Services.GetRequiredService<OrderLifecycle>();
        await Eventually.HoldsAsync(async () =>
        {
            await lifecycle.CancelExpiredAsync(DateTimeOffset.UtcNow > deadline ? DateTimeOffset.UtcNow : deadline, 500, CancellationToken.None);
            return await ShardOrders.StatusAsync(factory, orderNo) == "Cancelled";
        }, TimeSpan.FromSeconds(10));
        // The release signal reaches this Ingress through Redis pub/sub; the fast path lets the buyer through.
        await Eventually.HoldsAsync(() => !cache.IsSoldOutFor(request), TimeSpan.FromSeconds(5));
        using var bought = await sale.ReserveAsync(second, "k");
        Assert.Equal(HttpStatusCode.Created, bought.StatusCode);
        Assert.Equal(0, await sale.AvailableAsync());
    }
}
