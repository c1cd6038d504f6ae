using System.Globalization;
using System.Net;
using System.Text.Json;
using FlashSale.Tests.Infrastructure;

namespace FlashSale.Tests.Api;

/// <summary>providerTxnId is stored, listed and logged: visible ASCII only, at most 128 characters, and exact.</summary>
[Collection(IngressCollection.Name)]
public sealed class ProviderTxnIdTests(IngressFactory factory)
{
    private async Task<string> PersistedOrderAsync(long buyerId)
    {
        var sale = await TestSale.StartAsync(factory, stock: 10, perUserLimit: 5, price: "25.00");
        using var buyer = factory.Buyer(buyerId);
        using var created = await sale.ReserveAsync(buyer, "k");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        await ShardOrders.PersistAsync(factory, sale);
        return (await created.JsonAsync()).GetProperty("orderNo").GetString()!;
    }

    private static Task<HttpResponseMessage> PayAsync(HttpClient provider, string orderNo, string txnId)
        => PaymentProvider.SendAsync(provider, JsonSerializer.Serialize(new { orderNo, providerTxnId = txnId, amount = "25.00", status = "succeeded" }));

    [Theory]
    [InlineData("pay\u0000123")]
    [InlineData("pay\n123")]
    [InlineData("pay\r\n123")]
    [InlineData("pay\u202E321")]
    [InlineData("pay 123")]
    [InlineData("pay\t123")]
    [InlineData("päy-123")]
    [InlineData("")]
    [InlineData(" ")]
    public async Task InvisibleOrNonAsciiTxnIdIsRefusedAndRecordsNothing(string txnId)
    {
        var orderNo = await PersistedOrderAsync(9201);
        using var provider = factory.CreateClient();

        using var response = await PayAsync(provider, orderNo, txnId);

        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid-callback");
        Assert.Equal("providerTxnId", problem.GetProperty("field").GetString());
        Assert.Contains("visible ASCII", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var number = long.Parse(orderNo, CultureInfo.InvariantCulture);
        Assert.Equal("PendingPayment", await ShardOrders.StatusAsync(factory, number));
        Assert.Equal(0, await ShardOrders.ScalarAsync<int>(factory, number, "SELECT COUNT(*) FROM payments WHERE order_no = @orderNo"));
    }

    [Fact]
    public async Task TxnIdOfAtMost128VisibleCharactersIsAccepted()
    {
        var orderNo = await PersistedOrderAsync(9202);
        using var provider = factory.CreateClient();

        using var tooLong = await PayAsync(provider, orderNo, "x" + new string('~', 128));
        using var longest = await PayAsync(provider, orderNo, "t" + orderNo + new string('!', 127 - orderNo.Length));

        await tooLong.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid-callback");
        Assert.Equal(HttpStatusCode.OK, longest.StatusCode);
        Assert.Equal("applied", (await longest.JsonAsync()).GetProperty("outcome").GetString());
    }

    [Fact]
    public async Task TxnIdsThatDifferOnlyInCaseAreDifferentPayments()
    {
        // Two buyers of the same logical shard: both payments land in one payments table.
        var first = await PersistedOrderAsync(9203);
        var second = await PersistedOrderAsync(9203 + 64);
        var txnId = "txn-case-" + first;
        using var provider = factory.CreateClient();

        using var paidFirst = await PayAsync(provider, first, txnId);
        using var paidSecond = await PayAsync(provider, second, txnId.ToUpperInvariant());

        Assert.Equal(HttpStatusCode.OK, paidFirst.StatusCode);
        Assert.Equal(HttpStatusCode.OK, paidSecond.StatusCode);
        // Not a replay of the first order's payment: the second order is paid too.
        Assert.Equal("Paid", (await paidSecond.JsonAsync()).GetProperty("orderStatus").GetString());
        Assert.Equal("Paid", await ShardOrders.StatusAsync(factory, long.Parse(second, CultureInfo.InvariantCulture)));
    }
}
