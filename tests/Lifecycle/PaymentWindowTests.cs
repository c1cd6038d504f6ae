using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using Dapper;
using FlashSale.Engine.Lifecycle;
using FlashSale.Engine.Reservations;
using FlashSale.Engine.Storage;
using FlashSale.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace FlashSale.Tests.Lifecycle;

// Each waits for real payment windows (30 s, the shortest a campaign may have), so each has a
// collection of its own and they wait side by side with the rest of the suite.
[CollectionDefinition(Name)]
public sealed class DeadlineRaceCollection : ICollectionFixture<IngressFactory>
{
    public const string Name = "deadline-race";
}

[CollectionDefinition(Name)]
public sealed class TimeoutReleaseCollection : ICollectionFixture<IngressFactory>
{
    public const string Name = "timeout-release";
}

[Collection(DeadlineRaceCollection.Name)]
public sealed class PaymentDeadlineRaceTests(IngressFactory factory)
{
    [Fact]
    public async Task CallbacksRacingTheirDeadlineEndPaidOrCancelledNeverBoth()
    {
        const int orders = 300;
        var sale = await TestSale.StartAsync(factory, stock: orders, perUserLimit: 1, price: "10.00", paymentWindowSeconds: 30);
        var reserved = new ConcurrentBag<(long OrderNo, DateTimeOffset Deadline)>();
        await Parallel.ForEachAsync(Enumerable.Range(0, orders), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, _) =>
        {
            using var buyer = factory.Buyer(8_000_000 + i);
            using var created = await sale.ReserveAsync(buyer, "k");
            var body = await created.JsonAsync();
            reserved.Add((long.Parse(body.GetProperty("orderNo").GetString()!, CultureInfo.InvariantCulture),
                DateTimeOffset.Parse(body.GetProperty("paymentDeadline").GetString()!, CultureInfo.InvariantCulture)));
        });
        Assert.Equal(orders, reserved.Count);
        Assert.Equal(orders, await ShardOrders.PersistAsync(factory, sale));

        var lifecycle = factory.Services.GetRequiredService<OrderLifecycle>();
        // Orders of earlier tests (and runs) that expired already must not keep the scan from ours.
        while (await lifecycle.CancelExpiredAsync(DateTimeOffset.UtcNow, 500, CancellationToken.None) > 0)
        {
        }
        var last = reserved.Max(r => r.Deadline);
        var untilRace = reserved.Min(r => r.Deadline) - DateTimeOffset.UtcNow - TimeSpan.FromSeconds(1.5);
        Assert.True(untilRace > TimeSpan.Zero, "setting the sale up took the whole payment window");
        await Task.Delay(untilRace);

        // The payment-window scan runs every 20 ms while each order's payment arrives somewhere
        // between a second before and a second after its own deadline.
        var scanning = Task.Run(async () =>
        {
            while (DateTimeOffset.UtcNow < last + TimeSpan.FromSeconds(2))
            {
                await lifecycle.CancelExpiredAsync(DateTimeOffset.UtcNow, 500, CancellationToken.None);
                await Task.Delay(20);
            }
        });
        using var provider = factory.CreateClient();
        var paying = reserved.Select((r, i) => Task.Run(async () =>
        {
            var at = r.Deadline + TimeSpan.FromMilliseconds(-1_000 + i * 2_000 / orders);
            var wait = at - DateTimeOffset.UtcNow;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait);
            }
            using var response = await PaymentProvider.CallbackAsync(provider, r.OrderNo.ToString(CultureInfo.InvariantCulture), $"txn-race-{r.OrderNo}", "10.00");
            Assert.True(HttpStatusCode.OK == response.StatusCode, await response.Content.ReadAsStringAsync());
        })).ToList();
        await Task.WhenAll(paying);
        await scanning;
        await lifecycle.CancelExpiredAsync(DateTimeOffset.UtcNow, 500, CancellationToken.None);

        var shards = factory.Services.GetRequiredService<ShardDataSources>();
        var states = new List<(long OrderNo, string Status, int Transitions, string Outcome)>();
        for (var shard = 0; shard < shards.Count; shard++)
        {
            await using var connection = await shards.OpenAsync(shard, CancellationToken.None);
            states.AddRange(await connection.QueryAsync<(long, string, int, string)>("""
                SELECT o.order_no, o.status,
                       (SELECT COUNT(*) FROM order_status_log l WHERE l.order_no = o.order_no AND l.to_status IN ('Paid', 'Cancelled')),
                       (SELECT p.outcome FROM payments p WHERE p.order_no = o.order_no)
                FROM orders o WHERE o.campaign_id = @campaignId
                """, new { sale.CampaignId }));
        }

        Assert.Equal(orders, states.Count);
        Assert.All(states, s =>
        {
            Assert.Equal(1, s.Transitions);
            Assert.Equal(s.Status == "Paid" ? "applied" : "refund-required", s.Outcome);
            Assert.True(s.Status is "Paid" or "Cancelled", s.Status);
        });
        var paid = states.Count(s => s.Status == "Paid");
        Assert.InRange(paid, 1, orders - 1);
        // Stock came back for exactly the cancelled orders: available + live orders == total.
        Assert.Equal(orders - paid, await sale.AvailableAsync());
        var ledger = await sale.Db.HashGetAllAsync(sale.Keys.Ledger);
        Assert.Equal(orders - paid, ledger.Count(e => e.Value.ToString().EndsWith("|C", StringComparison.Ordinal)));
    }
}

[Collection(TimeoutReleaseCollection.Name)]
public sealed class TimeoutReleaseTests(IngressFactory factory)
{
    [Fact]
    public async Task UnitReleasedByTheTimeoutCanBeBoughtAtOnceAfterSellOut()
    {
        var sale = await TestSale.StartAsync(factory, stock: 1, price: "10.00", paymentWindowSeconds: 30);
        using var first = factory.Buyer(9001);
        using var second = factory.Buyer(9002);
        using var created = await sale.ReserveAsync(first, "k");
        var order = await created.JsonAsync();
        var deadline = DateTimeOffset.Parse(order.GetProperty("paymentDeadline").GetString()!, CultureInfo.InvariantCulture);
        var orderNo = long.Parse(order.GetProperty("orderNo").GetString()!, CultureInfo.InvariantCulture);
        Assert.Equal(1, await ShardOrders.PersistAsync(factory, sale));
        var cache = factory.Services.GetRequiredService<SoldOutCache>();
        var request = new ReservationRequest(sale.CampaignId, sale.SkuId, 9002, "k", 1);
        while (!cache.IsSoldOutFor(request))
        {
            using var refused = await sale.ReserveAsync(second, "k");
            await refused.AssertProblemAsync(HttpStatusCode.Conflict, "sold-out");
        }

        await Task.Delay(deadline - DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(100));
        // What the Persister's scan does each second, until it reached this order (other tests' orders expire too).
        var lifecycle = factory.Services.GetRequiredService<OrderLifecycle>();
        while (await ShardOrders.StatusAsync(factory, orderNo) == "PendingPayment")
        {
            await lifecycle.CancelExpiredAsync(DateTimeOffset.UtcNow, 500, CancellationToken.None);
        }
        // The release signal reaches this Ingress through Redis pub/sub; the fast path lets the buyer through.
        var until = DateTime.UtcNow.AddSeconds(5);
        while (cache.IsSoldOutFor(request) && DateTime.UtcNow < until)
        {
            await Task.Delay(20);
        }
        using var bought = await sale.ReserveAsync(second, "k");
        Assert.Equal(HttpStatusCode.Created, bought.StatusCode);
        Assert.Equal(0, await sale.AvailableAsync());
    }
}
