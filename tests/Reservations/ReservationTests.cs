using System.Globalization;
using System.Net;
using FlashSale.Engine.Kafka;
using FlashSale.Engine.Redis;
using FlashSale.Engine.Storage;
using FlashSale.Tests.Infrastructure;

namespace FlashSale.Tests.Reservations;

[Collection(IngressCollection.Name)]
[Trait("Cluster", "yes")]
public sealed class ReservationTests(IngressFactory factory)
{
    [Fact]
    public async Task ReserveReturnsCreatedOrderWithLocationAmountAndDeadline()
    {
        var sale = await TestSale.StartAsync(factory, stock: 10, perUserLimit: 3, price: "199.90");
        using var buyer = factory.Buyer(777);

        using var response = await sale.ReserveAsync(buyer, "k-1", quantity: 2);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.JsonAsync();
        var orderNo = body.GetProperty("orderNo").GetString()!;
        Assert.Equal($"/api/v1/orders/{orderNo}", response.Headers.Location?.OriginalString);
        Assert.Equal(sale.CampaignId, body.GetProperty("campaignId").GetString());
        Assert.Equal(sale.SkuId, body.GetProperty("skuId").GetInt64());
        Assert.Equal(2, body.GetProperty("quantity").GetInt32());
        Assert.Equal("399.80", body.GetProperty("amount").GetString());
        Assert.Equal("PendingPayment", body.GetProperty("status").GetString());
        var deadline = body.GetProperty("paymentDeadline").GetString()!;
        Assert.EndsWith("Z", deadline, StringComparison.Ordinal);
        var remaining = DateTimeOffset.Parse(deadline, CultureInfo.InvariantCulture) - DateTimeOffset.UtcNow;
        Assert.InRange(remaining.TotalSeconds, 880, 905);
        Assert.Equal(OrderNumbers.LogicalShardOfUser(777), OrderNumbers.LogicalShardOf(long.Parse(orderNo, CultureInfo.InvariantCulture)));
        Assert.Equal(8, await sale.AvailableAsync());

        var events = await sale.Db.StreamRangeAsync(sale.Keys.Outbox);
        var record = OutboxEntry.Read(Assert.Single(events));
        Assert.Equal([long.Parse(orderNo, CultureInfo.InvariantCulture)], record.OrderNos);
        var e = Assert.Single(ReservationRecords.Read(record.Message));
        Assert.Equal((orderNo, 777L, sale.CampaignId, sale.SkuId, 2, 39_980L, "k-1"),
            (e.OrderNo.ToString(CultureInfo.InvariantCulture), e.UserId, e.CampaignId, e.SkuId, e.Quantity, e.AmountMinor, e.IdempotencyKey));
        Assert.Equal(TimeSpan.FromSeconds(900).TotalMilliseconds, e.PaymentDeadlineMs - e.CreatedAtMs);
        // The SKU's first decision: its sequence number travels with the event.
        Assert.Equal(1, e.Sequence);
        Assert.Equal("1", (string?)await sale.Db.HashGetAsync(sale.Keys.Meta, "seq"));
        Assert.Equal(events[0].Id.ToString(), (string?)await sale.Db.HashGetAsync(sale.Keys.Pending, orderNo));
    }

    [Fact]
    public async Task ReplayWithSameIdempotencyKeyReturnsSameOrderEvenAfterSellOut()
    {
        var sale = await TestSale.StartAsync(factory, stock: 1);
        using var first = factory.Buyer(1001);
        using var second = factory.Buyer(1002);

        using var created = await sale.ReserveAsync(first, "mine");
        var orderNo = (await created.JsonAsync()).GetProperty("orderNo").GetString();
        using var late = await sale.ReserveAsync(second, "too-late");
        await late.AssertProblemAsync(HttpStatusCode.Conflict, "sold-out");

        using var replay = await sale.ReserveAsync(first, "mine");

        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        Assert.Equal(orderNo, (await replay.JsonAsync()).GetProperty("orderNo").GetString());
        Assert.Equal("true", replay.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(1, await RedisLedger.LengthAsync(sale.Db, sale.Keys));
    }

    [Fact]
    public async Task SameIdempotencyKeyWithDifferentBodyIsUnprocessable()
    {
        var sale = await TestSale.StartAsync(factory, stock: 10, perUserLimit: 5);
        using var buyer = factory.Buyer(1003);
        using var created = await sale.ReserveAsync(buyer, "k", quantity: 1);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var before = await sale.SnapshotAsync();

        using var reused = await sale.ReserveAsync(buyer, "k", quantity: 2);

        await reused.AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "idempotency-key-reused");
        Assert.Equal(before, await sale.SnapshotAsync());
    }

    [Fact]
    public async Task SameIdempotencyKeyFromAnotherBuyerIsAnotherOrder()
    {
        var sale = await TestSale.StartAsync(factory, stock: 10);
        using var a = factory.Buyer(1004);
        using var b = factory.Buyer(1005);

        using var first = await sale.ReserveAsync(a, "shared-key");
        using var second = await sale.ReserveAsync(b, "shared-key");

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        Assert.NotEqual((await first.JsonAsync()).GetProperty("orderNo").GetString(), (await second.JsonAsync()).GetProperty("orderNo").GetString());
    }

    [Fact]
    public async Task PurchaseLimitCountsUnitsAcrossOrders()
    {
        var sale = await TestSale.StartAsync(factory, stock: 10, perUserLimit: 2);
        using var buyer = factory.Buyer(1006);
        using var one = await sale.ReserveAsync(buyer, "a");
        Assert.Equal(HttpStatusCode.Created, one.StatusCode);
        var before = await sale.SnapshotAsync();

        using var twoMore = await sale.ReserveAsync(buyer, "b", quantity: 2);

        await twoMore.AssertProblemAsync(HttpStatusCode.Conflict, "purchase-limit");
        Assert.Equal(before, await sale.SnapshotAsync());
        using var lastOne = await sale.ReserveAsync(buyer, "c", quantity: 1);
        Assert.Equal(HttpStatusCode.Created, lastOne.StatusCode);
    }

    [Fact]
    public async Task ReserveWhenSoldOutReturnsConflictAndChangesNothing()
    {
        var sale = await TestSale.StartAsync(factory, stock: 2, perUserLimit: 5);
        using var buyer = factory.Buyer(1007);
        using var most = await sale.ReserveAsync(buyer, "a", quantity: 2);
        Assert.Equal(HttpStatusCode.Created, most.StatusCode);
        var before = await sale.SnapshotAsync();

        using var another = factory.Buyer(1008);
        using var refused = await sale.ReserveAsync(another, "b");

        await refused.AssertProblemAsync(HttpStatusCode.Conflict, "sold-out");
        Assert.Equal(before, await sale.SnapshotAsync());
    }

    [Fact]
    public async Task QuantityAboveAvailableIsSoldOutWithoutDecrementing()
    {
        var sale = await TestSale.StartAsync(factory, stock: 2, perUserLimit: 5);
        using var buyer = factory.Buyer(1009);
        var before = await sale.SnapshotAsync();

        using var refused = await sale.ReserveAsync(buyer, "a", quantity: 3);

        await refused.AssertProblemAsync(HttpStatusCode.Conflict, "sold-out");
        Assert.Equal(before, await sale.SnapshotAsync());
        Assert.Equal(2, await sale.AvailableAsync());
    }

    [Fact]
    public async Task ReserveBeforeStartIsNotStarted()
    {
        var sale = await TestSale.StartAsync(factory, stock: 5, startsIn: TimeSpan.FromHours(1), endsIn: TimeSpan.FromHours(2));
        using var buyer = factory.Buyer(1010);
        var before = await sale.SnapshotAsync();

        using var response = await sale.ReserveAsync(buyer, "early");

        await response.AssertProblemAsync(HttpStatusCode.Conflict, "not-started");
        Assert.Equal(before, await sale.SnapshotAsync());
    }

    [Fact]
    public async Task ReserveAfterEndIsEnded()
    {
        var sale = await TestSale.StartAsync(factory, stock: 5, startsIn: TimeSpan.FromHours(-2), endsIn: TimeSpan.FromSeconds(-1));
        using var buyer = factory.Buyer(1011);
        var before = await sale.SnapshotAsync();

        using var response = await sale.ReserveAsync(buyer, "late");

        await response.AssertProblemAsync(HttpStatusCode.Conflict, "ended");
        Assert.Equal(before, await sale.SnapshotAsync());
    }

    [Fact]
    public async Task CampaignWindowOpensAtStartsAt()
    {
        var sale = await TestSale.StartAsync(factory, stock: 5, startsIn: TimeSpan.FromSeconds(1), endsIn: TimeSpan.FromHours(1));
        using var buyer = factory.Buyer(1012);
        var before = await sale.SnapshotAsync();

        using var early = await sale.ReserveAsync(buyer, "early");
        await early.AssertProblemAsync(HttpStatusCode.Conflict, "not-started");
        // The window opens by Redis's clock: until then every attempt is refused and changes nothing; the first
        // one after it is the buyer's.
        HttpStatusCode status = default;
        await Eventually.HoldsAsync(async () =>
        {
            using var attempt = await sale.ReserveAsync(buyer, "on-time");
            status = attempt.StatusCode;
            if (status == HttpStatusCode.Conflict)
            {
                await attempt.AssertProblemAsync(HttpStatusCode.Conflict, "not-started");
                Assert.Equal(before, await sale.SnapshotAsync());
                return false;
            }
            return true;
        }, TimeSpan.FromSeconds(10));

        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal(4, await sale.AvailableAsync());
    }

    [Fact]
    public async Task UnknownCampaignSkuOrColdSkuIsNotFound()
    {
        var cold = await TestSale.StartAsync(factory, stock: 5, warm: false);
        var warm = await TestSale.StartAsync(factory, stock: 5);
        using var buyer = factory.Buyer(1013);

        using var coldResponse = await cold.ReserveAsync(buyer, "k");
        using var unknownCampaign = await TestSale.SendReservationAsync(buyer, $"/api/v1/campaigns/{TestSale.NewCampaignId()}/skus/1/reservations", "k");
        using var unknownSku = await TestSale.SendReservationAsync(buyer, $"/api/v1/campaigns/{warm.CampaignId}/skus/{warm.SkuId + 1}/reservations", "k");
        using var malformedCampaign = await TestSale.SendReservationAsync(buyer, "/api/v1/campaigns/%7Bbad%7D/skus/1/reservations", "k");

        await coldResponse.AssertProblemAsync(HttpStatusCode.NotFound, "not-found");
        await unknownCampaign.AssertProblemAsync(HttpStatusCode.NotFound, "not-found");
        await unknownSku.AssertProblemAsync(HttpStatusCode.NotFound, "not-found");
        await malformedCampaign.AssertProblemAsync(HttpStatusCode.NotFound, "not-found");
        Assert.False(await cold.Db.KeyExistsAsync(cold.Keys.Meta));
    }

    [Theory]
    [InlineData("""{"quantity":0}""", "invalid-quantity")]
    [InlineData("""{"quantity":-1}""", "invalid-quantity")]
    [InlineData("""{"quantity":101}""", "invalid-quantity")]
    [InlineData("""{}""", "invalid-quantity")]
    [InlineData("""{"quantity":1.5}""", "invalid-body")]
    [InlineData("""{"quantity":"one"}""", "invalid-body")]
    [InlineData("""{"quantity":""", "invalid-body")]
    [InlineData("", "invalid-body")]
    [InlineData("null", "invalid-quantity")]
    public async Task MalformedBodyIsBadRequestAndChangesNothing(string body, string type)
    {
        var sale = await TestSale.StartAsync(factory, stock: 5);
        using var buyer = factory.Buyer(1014);
        var before = await sale.SnapshotAsync();

        using var response = await sale.ReserveRawAsync(buyer, "k", body);

        await response.AssertProblemAsync(HttpStatusCode.BadRequest, type);
        Assert.Equal(before, await sale.SnapshotAsync());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("tab\tkey")]
    [InlineData("ключ")]
    [InlineData("x12345678901234567890123456789012345678901234567890123456789012345")]
    public async Task MissingOrInvalidIdempotencyKeyIsBadRequest(string? key)
    {
        var sale = await TestSale.StartAsync(factory, stock: 5);
        using var buyer = factory.Buyer(1015);
        var before = await sale.SnapshotAsync();

        using var response = await sale.ReserveRawAsync(buyer, key, """{"quantity":1}""");

        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid-idempotency-key");
        Assert.Equal(before, await sale.SnapshotAsync());
    }

    [Fact]
    public async Task ReserveStillWorksAfterRedisForgotItsScripts()
    {
        var sale = await TestSale.StartAsync(factory, stock: 5, perUserLimit: 2);
        using var buyer = factory.Buyer(1017);
        using var first = await sale.ReserveAsync(buyer, "before");
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);

        // What a Redis restart or failover does to the script cache: the next EVALSHA gets NOSCRIPT.
        await using (var admin = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(TestEnvironment.Redis + ",allowAdmin=true"))
        {
            foreach (var server in RedisIsolation.Primaries(admin))
            {
                await server.ScriptFlushAsync();
            }
        }
        using var second = await sale.ReserveAsync(buyer, "after");

        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        Assert.Equal(3, await sale.AvailableAsync());
        Assert.Equal(2, await RedisLedger.LengthAsync(sale.Db, sale.Keys));
    }

    [Fact]
    public async Task SixtyFourCharacterKeyIsAccepted()
    {
        var sale = await TestSale.StartAsync(factory, stock: 5);
        using var buyer = factory.Buyer(1016);

        using var response = await sale.ReserveAsync(buyer, new string('k', 63) + "~");

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }
}
