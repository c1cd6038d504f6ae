using System.Collections.Concurrent;
using System.Net;
using FlashSale.Engine.Redis;
using FlashSale.Engine.Storage;
using FlashSale.Tests.Infrastructure;

namespace FlashSale.Tests.Reservations;

[Collection(IngressCollection.Name)]
[Trait("Cluster", "yes")]
public sealed class ReservationRaceTests(IngressFactory factory)
{
    [Fact]
    public async Task TwoThousandAttemptsFromThousandBuyersSellExactlyTheStock()
    {
        const int buyers = 1_000;
        const int attemptsPerBuyer = 2;
        const int stock = 100;
        var sale = await TestSale.StartAsync(factory, stock, perUserLimit: 1);
        var clients = Enumerable.Range(1, buyers).ToDictionary(i => (long)i + 5_000_000, i => factory.Buyer(i + 5_000_000));
        var outcomes = new ConcurrentBag<(long Buyer, HttpStatusCode Status, string Body)>();

        using var start = new ManualResetEventSlim();
        var attempts = clients.SelectMany(c => Enumerable.Range(0, attemptsPerBuyer).Select(a => Task.Run(async () =>
        {
            start.Wait();
            // Each attempt is a new purchase intent (its own key), as a buyer hammering the button would send.
            using var response = await sale.ReserveAsync(c.Value, $"race-{c.Key}-{a}");
            outcomes.Add((c.Key, response.StatusCode, await response.Content.ReadAsStringAsync()));
        }))).ToList();
        start.Set();
        await Task.WhenAll(attempts);

        Assert.Equal(buyers * attemptsPerBuyer, outcomes.Count);
        var successes = outcomes.Where(o => o.Status == HttpStatusCode.Created).ToList();
        Assert.Equal(stock, successes.Count);

        var orderNumbers = successes.Select(s => long.Parse(System.Text.Json.JsonDocument.Parse(s.Body).RootElement.GetProperty("orderNo").GetString()!, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(stock, orderNumbers.Distinct().Count());
        Assert.All(successes.Zip(orderNumbers), s => Assert.Equal(OrderNumbers.LogicalShardOfUser(s.First.Buyer), OrderNumbers.LogicalShardOf(s.Second)));
        Assert.Equal(stock, successes.Select(s => s.Buyer).Distinct().Count());

        var refusals = outcomes.Where(o => o.Status != HttpStatusCode.Created).ToList();
        Assert.All(refusals, r =>
        {
            Assert.Equal(HttpStatusCode.Conflict, r.Status);
            Assert.True(r.Body.Contains("/sold-out\"", StringComparison.Ordinal) || r.Body.Contains("/purchase-limit\"", StringComparison.Ordinal), r.Body);
        });

        Assert.Equal(0, await sale.AvailableAsync());
        Assert.Equal(stock, await RedisLedger.LengthAsync(sale.Db, sale.Keys));
        // Concurrent requests are decided in batches: one outbox entry per batch, every order in exactly one.
        var ledger = (await RedisLedger.AllAsync(sale.Db, sale.Keys)).Select(e => (long)e.Name).Order().ToList();
        var carried = (await sale.Db.StreamRangeAsync(sale.Keys.Outbox)).SelectMany(e => OutboxEntry.Read(e).OrderNos).Order().ToList();
        Assert.Equal(ledger, carried);
        var holders = await RedisLedger.BuyersAsync(sale.Db, sale.Keys);
        Assert.Equal(stock, holders.Count);
        Assert.All(holders.Values, b => Assert.Equal(1, b.Bought));

        foreach (var client in clients.Values)
        {
            client.Dispose();
        }
    }

    [Fact]
    public async Task TwentyParallelRequestsWithOneIdempotencyKeyMakeOneOrder()
    {
        var sale = await TestSale.StartAsync(factory, stock: 50, perUserLimit: 5);
        using var buyer = factory.Buyer(4242);

        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Task.Run(async () =>
        {
            using var response = await sale.ReserveAsync(buyer, "one-click-key");
            return (response.StatusCode, Body: await response.JsonAsync());
        })));

        Assert.All(responses, r => Assert.Contains(r.StatusCode, new[] { HttpStatusCode.Created, HttpStatusCode.OK }));
        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Created);
        Assert.Single(responses.Select(r => r.Body.GetProperty("orderNo").GetString()).Distinct());
        Assert.Equal(49, await sale.AvailableAsync());
        Assert.Equal(1, await RedisLedger.LengthAsync(sale.Db, sale.Keys));
        Assert.Equal(1, await sale.Db.StreamLengthAsync(sale.Keys.Outbox));
    }
}
