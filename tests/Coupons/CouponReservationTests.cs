using System.Globalization;
using System.Net;
using FlashSale.Engine.Kafka;
using FlashSale.Engine.Redis;
using FlashSale.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace FlashSale.Tests.Coupons;

/// <summary>Reserving with a coupon through the API: the discount, replays, key reuse, and refusals that hold nothing.</summary>
[Collection(IngressCollection.Name)]
[Trait("Cluster", "yes")]
public sealed class CouponReservationTests(IngressFactory factory)
{
    private const string Pools = """
        [{"couponId":"c20","discount":"20.00","minSpend":"100.00","quantity":5,"perUserLimit":1},
         {"couponId":"c30","discount":30,"minSpend":150,"quantity":5,"perUserLimit":2}]
        """;

    [Fact]
    public async Task ACouponTakesItsDiscountOffTheAmountAndTheOrderCarriesIt()
    {
        var sale = await TestSale.StartAsync(factory, stock: 10, perUserLimit: 3, price: "199.00", coupons: Pools);
        using var buyer = factory.Buyer(32_001);

        using var created = await sale.ReserveWithCouponAsync(buyer, "k1", "c20", quantity: 2);

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await created.JsonAsync();
        Assert.Equal("378.00", body.GetProperty("amount").GetString());
        Assert.Equal("c20", body.GetProperty("couponId").GetString());
        Assert.Equal("20.00", body.GetProperty("discount").GetString());
        var orderNo = long.Parse(body.GetProperty("orderNo").GetString()!, CultureInfo.InvariantCulture);
        Assert.Equal(8, await sale.AvailableAsync());
        Assert.Equal(4, await sale.PoolAsync("c20"));
        Assert.Equal(5, await sale.PoolAsync("c30"));
        // The event Kafka will carry has the coupon and the discounted amount.
        var events = (await sale.Db.StreamRangeAsync(sale.Keys.Outbox)).SelectMany(e => ReservationRecords.Read(OutboxEntry.Read(e).Message)).ToList();
        var reserved = Assert.Single(events);
        Assert.Equal((orderNo, "c20", 2000L, 378_00L), (reserved.OrderNo, reserved.CouponId, reserved.DiscountMinor, reserved.AmountMinor));
        Assert.True(reserved.CouponSequence > 0);
        // The buyer's order says so before it is persisted, too.
        using var order = await buyer.GetAsync($"/api/v1/orders/{orderNo}");
        var read = await order.JsonAsync();
        Assert.Equal(("c20", "20.00", "378.00"), (read.GetProperty("couponId").GetString(), read.GetProperty("discount").GetString(), read.GetProperty("amount").GetString()));

        // A reservation without a coupon is what it always was.
        using var plain = await sale.ReserveAsync(buyer, "k2");
        var plainBody = await plain.JsonAsync();
        Assert.Equal("199.00", plainBody.GetProperty("amount").GetString());
        Assert.False(plainBody.TryGetProperty("couponId", out _));
        Assert.False(plainBody.TryGetProperty("discount", out _));
    }

    [Fact]
    public async Task ARetryWithTheSameKeyReturnsTheSameOrderWithTheSameCouponAndTakesNoSecond()
    {
        var sale = await TestSale.StartAsync(factory, stock: 10, perUserLimit: 3, coupons: Pools);
        using var buyer = factory.Buyer(32_002);

        using var created = await sale.ReserveWithCouponAsync(buyer, "retry-me", "c20");
        var replays = await Task.WhenAll(Enumerable.Range(0, 5).Select(async _ =>
        {
            using var response = await sale.ReserveWithCouponAsync(buyer, "retry-me", "c20");
            return (response.StatusCode, Body: await response.JsonAsync(), Replayed: response.Headers.Contains("Idempotent-Replayed"));
        }));

        var first = await created.JsonAsync();
        Assert.All(replays, r =>
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.True(r.Replayed);
            Assert.Equal(first.GetProperty("orderNo").GetString(), r.Body.GetProperty("orderNo").GetString());
            Assert.Equal("c20", r.Body.GetProperty("couponId").GetString());
            Assert.Equal("20.00", r.Body.GetProperty("discount").GetString());
            Assert.Equal("179.00", r.Body.GetProperty("amount").GetString());
        });
        // One coupon and one unit, with a per-buyer coupon limit of one: the retries took neither again.
        Assert.Equal(4, await sale.PoolAsync("c20"));
        Assert.Equal(1, await sale.PoolAsync("c20", "reserved"));
        Assert.Equal(9, await sale.AvailableAsync());
        Assert.Equal(1, await RedisLedger.LengthAsync(sale.Db, sale.Keys));
    }

    [Fact]
    public async Task TwentyParallelRequestsWithOneKeyAndACouponMakeOneOrderWithOneCoupon()
    {
        var sale = await TestSale.StartAsync(factory, stock: 50, perUserLimit: 5, coupons: Pools);
        using var buyer = factory.Buyer(32_010);

        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Task.Run(async () =>
        {
            using var response = await sale.ReserveWithCouponAsync(buyer, "one-click", "c20");
            return (response.StatusCode, Body: await response.JsonAsync());
        })));

        Assert.All(responses, r => Assert.Contains(r.StatusCode, new[] { HttpStatusCode.Created, HttpStatusCode.OK }));
        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Created);
        Assert.Single(responses.Select(r => r.Body.GetProperty("orderNo").GetString()).Distinct());
        Assert.All(responses, r => Assert.Equal("c20", r.Body.GetProperty("couponId").GetString()));
        Assert.Equal((49L, 4L, 1L), (await sale.AvailableAsync(), await sale.PoolAsync("c20"), await sale.PoolAsync("c20", "reserved")));
    }

    [Fact]
    public async Task ALostCouponedEventIsRepublishedWithItsCoupon()
    {
        var sale = await TestSale.StartAsync(factory, stock: 10, coupons: Pools);
        using var buyer = factory.Buyer(32_011);
        using var created = await sale.ReserveWithCouponAsync(buyer, "k", "c20");
        var orderNo = long.Parse((await created.JsonAsync()).GetProperty("orderNo").GetString()!, CultureInfo.InvariantCulture);
        await sale.Db.KeyDeleteAsync(sale.Keys.Outbox);

        Assert.True(await factory.Services.GetRequiredService<SkuScripts>().RepublishAsync(sale.Db, sale.Keys, orderNo, "k"));

        var republished = Assert.Single((await sale.Db.StreamRangeAsync(sale.Keys.Outbox)).SelectMany(e => ReservationRecords.Read(OutboxEntry.Read(e).Message)));
        Assert.Equal((orderNo, "c20", 2000L, 179_00L), (republished.OrderNo, republished.CouponId, republished.DiscountMinor, republished.AmountMinor));
    }

    [Fact]
    public async Task TheSameKeyWithAnotherCouponOrNoneIsIdempotencyKeyReusedAndHoldsNothingMore()
    {
        var sale = await TestSale.StartAsync(factory, stock: 10, perUserLimit: 3, coupons: Pools);
        using var buyer = factory.Buyer(32_003);
        using var created = await sale.ReserveWithCouponAsync(buyer, "k", "c20");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var snapshot = await sale.SnapshotAsync();

        using var otherCoupon = await sale.ReserveWithCouponAsync(buyer, "k", "c30");
        using var noCoupon = await sale.ReserveAsync(buyer, "k");
        using var plainFirst = await sale.ReserveAsync(buyer, "plain");
        using var thenCoupon = await sale.ReserveWithCouponAsync(buyer, "plain", "c30");

        await otherCoupon.AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "idempotency-key-reused");
        await noCoupon.AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "idempotency-key-reused");
        Assert.Equal(HttpStatusCode.Created, plainFirst.StatusCode);
        await thenCoupon.AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "idempotency-key-reused");
        // The coupon tried for the refused requests went back; c20 is still the first order's.
        Assert.Equal(5, await sale.PoolAsync("c30"));
        Assert.Equal(0, await sale.PoolAsync("c30", "reserved"));
        Assert.Equal(4, await sale.PoolAsync("c20"));
        Assert.Equal(8, await sale.AvailableAsync());
        Assert.NotEqual(snapshot, await sale.SnapshotAsync());
    }

    [Fact]
    public async Task ACouponThatCannotBeUsedIs409CouponUnavailableAndHoldsNeitherAUnitNorACoupon()
    {
        var sale = await TestSale.StartAsync(factory, stock: 10, perUserLimit: 5, price: "60.00", coupons: """
            [{"couponId":"c20","discount":"20.00","minSpend":"100.00","quantity":1,"perUserLimit":1}]
            """);
        using var buyer = factory.Buyer(32_004);
        using var other = factory.Buyer(32_005);
        var before = (await sale.SnapshotAsync(), await sale.PoolAsync("c20"));

        // 60.00 is below the minimum spend of 100.00; an unknown pool; a malformed id.
        using var belowMinimum = await sale.ReserveWithCouponAsync(buyer, "a", "c20");
        using var unknown = await sale.ReserveWithCouponAsync(buyer, "b", "c99");
        using var malformed = await sale.ReserveWithCouponAsync(buyer, "c", "c 20");
        foreach (var response in new[] { belowMinimum, unknown, malformed })
        {
            await response.AssertProblemAsync(HttpStatusCode.Conflict, "coupon-unavailable");
        }
        Assert.Equal(before, (await sale.SnapshotAsync(), await sale.PoolAsync("c20")));

        // Two units reach the minimum; then the buyer's limit, then an empty pool for somebody else.
        using var enough = await sale.ReserveWithCouponAsync(buyer, "d", "c20", quantity: 2);
        Assert.Equal(HttpStatusCode.Created, enough.StatusCode);
        Assert.Equal("100.00", (await enough.JsonAsync()).GetProperty("amount").GetString());
        var held = (await sale.SnapshotAsync(), await sale.PoolAsync("c20"), await sale.PoolAsync("c20", "reserved"));
        using var overLimit = await sale.ReserveWithCouponAsync(buyer, "e", "c20", quantity: 2);
        using var empty = await sale.ReserveWithCouponAsync(other, "f", "c20", quantity: 2);
        await overLimit.AssertProblemAsync(HttpStatusCode.Conflict, "coupon-unavailable");
        await empty.AssertProblemAsync(HttpStatusCode.Conflict, "coupon-unavailable");
        Assert.Equal(held, (await sale.SnapshotAsync(), await sale.PoolAsync("c20"), await sale.PoolAsync("c20", "reserved")));
    }

    [Fact]
    public async Task WhenTheStockIsRefusedTheCouponGoesBackAndTheAnswerIsTheStocks()
    {
        var sale = await TestSale.StartAsync(factory, stock: 2, perUserLimit: 1, coupons: Pools);
        using var buyer = factory.Buyer(32_006);
        using var other = factory.Buyer(32_007);
        using var last = factory.Buyer(32_008);
        using var first = await sale.ReserveAsync(buyer, "plain");
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);

        // The buyer's SKU limit is reached while a unit is left (once the SKU is sold out, the Ingress may answer
        // sold-out from memory before any limit is looked at); then the last unit goes, and the SKU is sold out for another.
        using var limited = await sale.ReserveWithCouponAsync(buyer, "with-coupon", "c20");
        await limited.AssertProblemAsync(HttpStatusCode.Conflict, "purchase-limit");
        using var lastUnit = await sale.ReserveAsync(last, "plain");
        Assert.Equal(HttpStatusCode.Created, lastUnit.StatusCode);
        using var soldOut = await sale.ReserveWithCouponAsync(other, "with-coupon", "c20");
        await soldOut.AssertProblemAsync(HttpStatusCode.Conflict, "sold-out");
        Assert.Equal(5, await sale.PoolAsync("c20"));
        Assert.Equal(0, await sale.PoolAsync("c20", "reserved"));
        Assert.Equal(0, await sale.Db.HashLengthAsync(sale.Pool("c20").Users));
        Assert.Equal(0, await sale.Db.SortedSetLengthAsync(sale.Pool("c20").Tried));
    }

    [Fact]
    public async Task ThePublicViewOfAPoolCountsItsCoupons()
    {
        var sale = await TestSale.StartAsync(factory, stock: 10, coupons: """
            [{"couponId":"c20","discount":"20.00","minSpend":"100.00","quantity":1,"perUserLimit":1}]
            """);
        using var anonymous = factory.CreateClient();
        using var buyer = factory.Buyer(32_008);

        var before = await (await anonymous.GetAsync($"/api/v1/campaigns/{sale.CampaignId}/coupons/c20")).JsonAsync();
        using var created = await sale.ReserveWithCouponAsync(buyer, "k", "c20");
        var after = await (await anonymous.GetAsync($"/api/v1/campaigns/{sale.CampaignId}/coupons/c20")).JsonAsync();
        using var unknown = await anonymous.GetAsync($"/api/v1/campaigns/{sale.CampaignId}/coupons/c99");

        Assert.Equal("""{"total":1,"available":1,"state":"Available"}""", before.GetRawText());
        Assert.Equal("""{"total":1,"available":0,"state":"Exhausted"}""", after.GetRawText());
        await unknown.AssertProblemAsync(HttpStatusCode.NotFound, "not-found");

        var cold = await TestSale.StartAsync(factory, stock: 10, warm: false, coupons: """
            [{"couponId":"c20","discount":"20.00","minSpend":"100.00","quantity":7,"perUserLimit":1}]
            """);
        var notWarmed = await (await anonymous.GetAsync($"/api/v1/campaigns/{cold.CampaignId}/coupons/c20")).JsonAsync();
        Assert.Equal("""{"total":7,"available":0,"state":"NotWarmed"}""", notWarmed.GetRawText());
    }
}
