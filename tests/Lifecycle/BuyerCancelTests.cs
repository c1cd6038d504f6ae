using System.Net;
using FlashSale.Tests.Infrastructure;

namespace FlashSale.Tests.Lifecycle;

[Collection(IngressCollection.Name)]
[Trait("Cluster", "yes")]
public sealed class BuyerCancelTests(IngressFactory factory)
{
    [Fact]
    public async Task OwnerCancelsAPendingOrderOnceAndItsStockComesBack()
    {
        var sale = await TestSale.StartAsync(factory, stock: 3, perUserLimit: 3, price: "10.00");
        using var buyer = factory.Buyer(7001);
        using var stranger = factory.Buyer(7002);
        using var created = await sale.ReserveAsync(buyer, "k", quantity: 2);
        var orderNo = (await created.JsonAsync()).GetProperty("orderNo").GetString()!;
        await ShardOrders.PersistAsync(factory, sale);

        using var notYours = await stranger.PostAsync($"/api/v1/orders/{orderNo}/cancel", null);
        await notYours.AssertProblemAsync(HttpStatusCode.NotFound, "not-found");
        Assert.Equal(1, await sale.AvailableAsync());

        using var cancelled = await buyer.PostAsync($"/api/v1/orders/{orderNo}/cancel", null);
        using var again = await buyer.PostAsync($"/api/v1/orders/{orderNo}/cancel", null);

        Assert.Equal(HttpStatusCode.OK, cancelled.StatusCode);
        Assert.Equal("Cancelled", (await cancelled.JsonAsync()).GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(3, await sale.AvailableAsync());
        // The units are the buyer's to buy again: the per-buyer count went back too.
        using var rebuy = await sale.ReserveAsync(buyer, "k2", quantity: 3);
        Assert.Equal(HttpStatusCode.Created, rebuy.StatusCode);
    }

    [Fact]
    public async Task PaidOrderCannotBeCancelledByTheBuyer()
    {
        var sale = await TestSale.StartAsync(factory, stock: 3, price: "10.00");
        using var buyer = factory.Buyer(7003);
        using var created = await sale.ReserveAsync(buyer, "k");
        var orderNo = (await created.JsonAsync()).GetProperty("orderNo").GetString()!;
        await ShardOrders.PersistAsync(factory, sale);
        using var provider = factory.CreateClient();
        using var paid = await PaymentProvider.CallbackAsync(provider, orderNo, "txn-" + orderNo, "10.00");
        Assert.Equal(HttpStatusCode.OK, paid.StatusCode);

        using var response = await buyer.PostAsync($"/api/v1/orders/{orderNo}/cancel", null);

        await response.AssertProblemAsync(HttpStatusCode.Conflict, "order-paid");
        Assert.Equal(2, await sale.AvailableAsync());
    }

    [Fact]
    public async Task CancelOfAnOrderStillOnItsWayAsksToRetry()
    {
        var sale = await TestSale.StartAsync(factory, stock: 3);
        using var buyer = factory.Buyer(7004);
        using var created = await sale.ReserveAsync(buyer, "k");
        var orderNo = (await created.JsonAsync()).GetProperty("orderNo").GetString()!;

        using var response = await buyer.PostAsync($"/api/v1/orders/{orderNo}/cancel", null);

        await response.AssertProblemAsync(HttpStatusCode.ServiceUnavailable, "order-not-yet-persisted");
        Assert.Equal(2, await sale.AvailableAsync());
    }
}
