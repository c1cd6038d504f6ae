using System.Net;
using FlashSale.Engine.Redis;
using FlashSale.Engine.Relay;
using FlashSale.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace FlashSale.Tests.Reservations;

/// <summary>settle.lua: what the Ingress (after its own produce) and the relay (after a safety-net produce) run once Kafka confirmed an event.</summary>
[Collection(IngressCollection.Name)]
[Trait("Cluster", "yes")]
public sealed class SettleScriptTests(IngressFactory factory)
{
    private SkuScripts Scripts => factory.Services.GetRequiredService<SkuScripts>();

    [Fact]
    public async Task SettleRemovesTheEntryItsPendingMarkAndTheRelaysClaimOnItOnce()
    {
        var sale = await TestSale.StartAsync(factory, stock: 10);
        using var buyer = factory.Buyer(4242);
        using var created = await sale.ReserveAsync(buyer, "settle-1");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var orderNo = long.Parse((await created.JsonAsync()).GetProperty("orderNo").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        // The relay has read it: it is pending with a consumer of the group.
        await sale.Db.StreamCreateConsumerGroupAsync(sale.Keys.Outbox, RelayOptions.ConsumerGroup, "0-0");
        var read = Assert.Single(await sale.Db.StreamReadGroupAsync(sale.Keys.Outbox, RelayOptions.ConsumerGroup, "relay-test", ">"));
        Assert.Equal(read.Id.ToString(), (string?)await sale.Db.HashGetAsync(sale.Keys.Pending, orderNo));

        Assert.Equal(1, await Scripts.SettleAsync(sale.Db, sale.Keys, RelayOptions.ConsumerGroup, [new SettledEntry(read.Id, [orderNo])]));

        Assert.Equal(0, await sale.Db.StreamLengthAsync(sale.Keys.Outbox));
        Assert.False(await sale.Db.HashExistsAsync(sale.Keys.Pending, orderNo));
        Assert.Equal(0, (await sale.Db.StreamPendingAsync(sale.Keys.Outbox, RelayOptions.ConsumerGroup)).PendingMessageCount);
        // The second settler (the relay after the Ingress, or the other way round) finds nothing left to do.
        Assert.Equal(0, await Scripts.SettleAsync(sale.Db, sale.Keys, RelayOptions.ConsumerGroup, [new SettledEntry(read.Id, [orderNo])]));
        // The ledger keeps the reservation: settling is about the event, never the order.
        Assert.True(await RedisLedger.RecordAsync(sale.Db, sale.Keys, orderNo) is not null);
    }

    [Fact]
    public async Task SettlingAnotherEntryOfTheSameOrderLeavesItsPendingMark()
    {
        var sale = await TestSale.StartAsync(factory, stock: 10);
        using var buyer = factory.Buyer(4343);
        using var created = await sale.ReserveAsync(buyer, "settle-2");
        var orderNo = long.Parse((await created.JsonAsync()).GetProperty("orderNo").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        var original = Assert.Single(await sale.Db.StreamRangeAsync(sale.Keys.Outbox)).Id;
        // A copy the reconciler put back (republish.lua) carries no pending mark of its own.
        Assert.True(await Scripts.RepublishAsync(sale.Db, sale.Keys, orderNo, "settle-2"));
        var copy = (await sale.Db.StreamRangeAsync(sale.Keys.Outbox)).Single(e => e.Id != original).Id;

        Assert.Equal(1, await Scripts.SettleAsync(sale.Db, sale.Keys, RelayOptions.ConsumerGroup, [new SettledEntry(copy, [orderNo])]));

        Assert.Equal(original.ToString(), (string?)await sale.Db.HashGetAsync(sale.Keys.Pending, orderNo));
        Assert.Equal(original, Assert.Single(await sale.Db.StreamRangeAsync(sale.Keys.Outbox)).Id);
    }

    [Fact]
    public async Task SettleTakesSeveralEntriesOfOneSkuInOneCall()
    {
        var sale = await TestSale.StartAsync(factory, stock: 10);
        var settled = new List<SettledEntry>();
        for (var user = 4400; user < 4403; user++)
        {
            using var buyer = factory.Buyer(user);
            using var created = await sale.ReserveAsync(buyer, "settle-many");
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }
        foreach (var entry in await sale.Db.StreamRangeAsync(sale.Keys.Outbox))
        {
            settled.Add(new SettledEntry(entry.Id, OutboxEntry.Read(entry).OrderNos));
        }

        Assert.Equal(3, await Scripts.SettleAsync(sale.Db, sale.Keys, RelayOptions.ConsumerGroup, settled));

        Assert.Equal(0, await sale.Db.StreamLengthAsync(sale.Keys.Outbox));
        Assert.Equal(0, await sale.Db.HashLengthAsync(sale.Keys.Pending));
    }
}
