using System.Net;
using FlashSale.Tests.Infrastructure;

namespace FlashSale.Tests.Api;

/// <summary>
/// Bodies are read strictly: unknown or repeated members and numbers sent as strings are a 400 naming the
/// field; amounts alone may be decimal strings, as documented. A refused body changes nothing.
/// </summary>
[Collection(IngressCollection.Name)]
public sealed class StrictJsonTests(IngressFactory factory)
{
    [Theory]
    [InlineData("""{"quantity":"1"}""", "quantity")]
    [InlineData("""{"quantity":1,"note":"gift"}""", "note")]
    [InlineData("""{"quantity":1,"Quantity":2}""", null)]
    [InlineData("""{"quantity":1,"quantity":2}""", null)]
    [InlineData("""{"quantity":1.0}""", "quantity")]
    [InlineData("""{"quantity":99999999999999999999}""", "quantity")]
    [InlineData("""{"quantity":1""", null)]
    [InlineData("", null)]
    [InlineData("[1]", null)]
    public async Task ReservationBodyIsReadStrictly(string body, string? field)
    {
        var sale = await TestSale.StartAsync(factory, stock: 5);
        using var buyer = factory.Buyer(9101);
        var before = await sale.SnapshotAsync();

        using var response = await sale.ReserveRawAsync(buyer, "k", body);

        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid-body");
        if (field is not null)
        {
            Assert.Equal(field, problem.GetProperty("field").GetString());
            Assert.Contains($"'{field}'", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
        Assert.Equal(before, await sale.SnapshotAsync());
    }

    [Theory]
    [InlineData("\"paymentWindowSeconds\":\"900\"", "paymentWindowSeconds")]
    [InlineData("\"paymentWindowSeconds\":900,\"vip\":true", "vip")]
    [InlineData("\"paymentWindowSeconds\":900,\"skus\":[{\"skuId\":1,\"price\":\"1.00\",\"stock\":\"5\",\"perUserLimit\":1}]", "skus[0].stock")]
    [InlineData("\"paymentWindowSeconds\":900,\"skus\":[{\"skuId\":\"1\",\"price\":\"1.00\",\"stock\":5,\"perUserLimit\":1}]", "skus[0].skuId")]
    [InlineData("\"paymentWindowSeconds\":900,\"skus\":[{\"skuId\":1,\"price\":\"1.00\",\"stock\":5,\"perUserLimit\":1,\"colour\":\"red\"}]", "skus[0].colour")]
    public async Task CampaignBodyIsReadStrictly(string members, string field)
    {
        var id = TestSale.NewCampaignId();
        var body = $$"""{"campaignId":"{{id}}","startsAt":"2026-01-01T00:00:00Z","endsAt":"2027-01-01T00:00:00Z",{{members}}""";
        if (!members.Contains("\"skus\"", StringComparison.Ordinal))
        {
            body += ""","skus":[{"skuId":1,"price":"1.00","stock":5,"perUserLimit":1}]""";
        }
        using var admin = factory.Admin();

        using var response = await admin.PostAsync("/api/v1/admin/campaigns", TestSale.Json(body + "}"));

        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid-body");
        Assert.Equal(field, problem.GetProperty("field").GetString());
        using var stored = await admin.GetAsync($"/api/v1/admin/campaigns/{id}");
        Assert.Equal(HttpStatusCode.NotFound, stored.StatusCode);
    }

    [Fact]
    public async Task PriceMayStillBeADecimalStringOrNumber()
    {
        using var admin = factory.Admin();
        foreach (var price in new[] { "\"19.90\"", "19.9" })
        {
            var id = TestSale.NewCampaignId();
            using var response = await admin.PostAsync("/api/v1/admin/campaigns", TestSale.Json($$"""
                {"campaignId":"{{id}}","startsAt":"2026-01-01T00:00:00Z","endsAt":"2027-01-01T00:00:00Z","paymentWindowSeconds":900,
                 "skus":[{"skuId":1,"price":{{price}},"stock":5,"perUserLimit":1}]}
                """));
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            Assert.Equal("19.90", (await response.JsonAsync()).GetProperty("skus")[0].GetProperty("price").GetString());
        }
    }

    [Fact]
    public async Task NullSkuIsAValidationErrorNotAServerError()
    {
        using var admin = factory.Admin();

        using var response = await admin.PostAsync("/api/v1/admin/campaigns", TestSale.Json($$"""
            {"campaignId":"{{TestSale.NewCampaignId()}}","startsAt":"2026-01-01T00:00:00Z","endsAt":"2027-01-01T00:00:00Z",
             "paymentWindowSeconds":900,"skus":[null,{"skuId":1,"price":"1.00","stock":5,"perUserLimit":1}]}
            """));

        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid-campaign");
        Assert.True(problem.GetProperty("errors").TryGetProperty("skus[0]", out _), problem.ToString());
    }

    [Theory]
    [InlineData("""{"orderNo":"1","providerTxnId":"t","amount":"1.00","status":"succeeded","fee":"0.10"}""", "fee")]
    [InlineData("""{"orderNo":1,"providerTxnId":"t","amount":"1.00","status":"succeeded"}""", "orderNo")]
    [InlineData("""{"orderNo":"1","providerTxnId":"t","amount":true,"status":"succeeded"}""", "amount")]
    [InlineData("""{"orderNo":"1","providerTxnId":"t","amount":"1.00","status":"succeeded","status":"failed"}""", null)]
    [InlineData("""{"orderNo":"1","providerTxnId":"t","amount":"99999999999999999999.00","status":"succeeded"}""", null)]
    [InlineData("""{"orderNo":"1","providerTxnId":"t","amount":1e400,"status":"succeeded"}""", null)]
    [InlineData("""{"orderNo":"1","providerTxnId":"t",""", null)]
    public async Task CallbackBodyIsReadStrictly(string body, string? field)
    {
        using var provider = factory.CreateClient();

        using var response = await PaymentProvider.SendAsync(provider, body);

        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid-callback");
        if (field is not null)
        {
            Assert.Equal(field, problem.GetProperty("field").GetString());
        }
    }
}
