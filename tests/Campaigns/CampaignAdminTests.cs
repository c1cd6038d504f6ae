using System.Net;
using FlashSale.Tests.Infrastructure;

namespace FlashSale.Tests.Campaigns;

[Collection(IngressCollection.Name)]
public sealed class CampaignAdminTests(IngressFactory factory)
{
    private static string Definition(string id, string price = "\"199.00\"", int stock = 1000, string endsAt = "2030-01-01T00:00:00Z") => $$"""
        {"campaignId":"{{id}}","startsAt":"2026-01-01T00:00:00Z","endsAt":"{{endsAt}}","paymentWindowSeconds":900,
         "skus":[{"skuId":1001,"price":{{price}},"stock":{{stock}},"perUserLimit":1},{"skuId":1002,"price":{{price}},"stock":5,"perUserLimit":2}]}
        """;

    [Fact]
    public async Task CreateSameDefinitionAgainIsIdempotentAndDifferentOneConflicts()
    {
        using var admin = factory.Admin();
        var id = TestSale.NewCampaignId();

        using var created = await admin.PostAsync("/api/v1/admin/campaigns", TestSale.Json(Definition(id)));
        // The same definition, price spelt as a number: still the same campaign.
        using var again = await admin.PostAsync("/api/v1/admin/campaigns", TestSale.Json(Definition(id, price: "199")));
        using var different = await admin.PostAsync("/api/v1/admin/campaigns", TestSale.Json(Definition(id, stock: 999)));

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal($"/api/v1/admin/campaigns/{id}", created.Headers.Location?.OriginalString);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        await different.AssertProblemAsync(HttpStatusCode.Conflict, "campaign-conflict");

        using var read = await admin.GetAsync($"/api/v1/admin/campaigns/{id}");
        var body = await read.JsonAsync();
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        var sku = body.GetProperty("skus")[0];
        Assert.Equal(1000, sku.GetProperty("stock").GetInt32());
        Assert.Equal("199.00", sku.GetProperty("price").GetString());
        Assert.Equal("NotWarmed", sku.GetProperty("state").GetString());
        Assert.Equal("2026-01-01T00:00:00Z", body.GetProperty("startsAt").GetString());
    }

    [Theory]
    [InlineData("""{"campaignId":"bad id!","startsAt":"2026-01-01T00:00:00Z","endsAt":"2030-01-01T00:00:00Z","paymentWindowSeconds":900,"skus":[{"skuId":1,"price":"1.00","stock":1,"perUserLimit":1}]}""", "campaignId")]
    [InlineData("""{"campaignId":"ok","startsAt":"2026-01-02T00:00:00Z","endsAt":"2026-01-01T00:00:00Z","paymentWindowSeconds":900,"skus":[{"skuId":1,"price":"1.00","stock":1,"perUserLimit":1}]}""", "endsAt")]
    [InlineData("""{"campaignId":"ok","startsAt":"2026-01-01T00:00:00Z","endsAt":"2030-01-01T00:00:00Z","paymentWindowSeconds":900,"skus":[]}""", "skus")]
    [InlineData("""{"campaignId":"ok","startsAt":"2026-01-01T00:00:00Z","endsAt":"2030-01-01T00:00:00Z","paymentWindowSeconds":900,"skus":[{"skuId":1,"price":"1.001","stock":1,"perUserLimit":1}]}""", "skus[0]")]
    [InlineData("""{"campaignId":"ok","startsAt":"2026-01-01T00:00:00Z","endsAt":"2030-01-01T00:00:00Z","paymentWindowSeconds":900,"skus":[{"skuId":1,"price":"-5","stock":1,"perUserLimit":1}]}""", "skus[0]")]
    [InlineData("""{"campaignId":"ok","startsAt":"2026-01-01T00:00:00Z","endsAt":"2030-01-01T00:00:00Z","paymentWindowSeconds":900,"skus":[{"skuId":1,"price":"1.00","stock":-1,"perUserLimit":0}]}""", "skus[0]")]
    [InlineData("""{"campaignId":"ok","startsAt":"2026-01-01T00:00:00Z","endsAt":"2030-01-01T00:00:00Z","paymentWindowSeconds":5,"skus":[{"skuId":1,"price":"1.00","stock":1,"perUserLimit":1}]}""", "paymentWindowSeconds")]
    public async Task InvalidDefinitionIsBadRequestNamingTheField(string body, string field)
    {
        using var admin = factory.Admin();

        using var response = await admin.PostAsync("/api/v1/admin/campaigns", TestSale.Json(body));

        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid-campaign");
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Theory]
    [InlineData("{not json")]
    [InlineData("""{"campaignId":"x","skus":[{"skuId":1,"price":"abc","stock":1,"perUserLimit":1}]}""")]
    public async Task MalformedJsonIsBadRequest(string body)
    {
        using var admin = factory.Admin();

        using var response = await admin.PostAsync("/api/v1/admin/campaigns", TestSale.Json(body));

        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid-body");
    }

    [Fact]
    public async Task GetUnknownCampaignIsNotFound()
    {
        using var admin = factory.Admin();

        using var response = await admin.GetAsync($"/api/v1/admin/campaigns/{TestSale.NewCampaignId()}");

        await response.AssertProblemAsync(HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task WarmupOfLiveCampaignIsRefusedUnlessForcedAndForceKeepsReservedUnits()
    {
        var sale = await TestSale.StartAsync(factory, stock: 10, perUserLimit: 3);
        using var admin = factory.Admin();
        using var buyer = factory.Buyer(2001);
        using var reserved = await sale.ReserveAsync(buyer, "k", quantity: 3);
        Assert.Equal(HttpStatusCode.Created, reserved.StatusCode);
        var before = await sale.SnapshotAsync();

        using var refused = await admin.PostAsync($"/api/v1/admin/campaigns/{sale.CampaignId}/warmup", null);

        var problem = await refused.AssertProblemAsync(HttpStatusCode.Conflict, "already-live");
        Assert.Contains(sale.SkuId.ToString(System.Globalization.CultureInfo.InvariantCulture), problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(before, await sale.SnapshotAsync());

        using var forced = await admin.PostAsync($"/api/v1/admin/campaigns/{sale.CampaignId}/warmup?force=true", null);

        Assert.Equal(HttpStatusCode.OK, forced.StatusCode);
        // Three units are held by the order: a reload must not sell them again.
        Assert.Equal(7, await sale.AvailableAsync());
        Assert.Equal(7, (await forced.JsonAsync()).GetProperty("skus")[0].GetProperty("available").GetInt32());
    }

    [Fact]
    public async Task WarmupOfUnknownCampaignIsNotFound()
    {
        using var admin = factory.Admin();

        using var response = await admin.PostAsync($"/api/v1/admin/campaigns/{TestSale.NewCampaignId()}/warmup", null);

        await response.AssertProblemAsync(HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task PublicSkuStockShowsTotalAvailableAndState()
    {
        var cold = await TestSale.StartAsync(factory, stock: 3, warm: false);
        var sale = await TestSale.StartAsync(factory, stock: 1);
        var scheduled = await TestSale.StartAsync(factory, stock: 4, startsIn: TimeSpan.FromHours(1), endsIn: TimeSpan.FromHours(2));
        using var anonymous = factory.CreateClient();

        Assert.Equal("""{"total":3,"available":0,"state":"NotWarmed"}""",
            await anonymous.GetStringAsync($"/api/v1/campaigns/{cold.CampaignId}/skus/{cold.SkuId}"));
        Assert.Equal("""{"total":1,"available":1,"state":"OnSale"}""",
            await anonymous.GetStringAsync($"/api/v1/campaigns/{sale.CampaignId}/skus/{sale.SkuId}"));
        Assert.Equal("""{"total":4,"available":4,"state":"Scheduled"}""",
            await anonymous.GetStringAsync($"/api/v1/campaigns/{scheduled.CampaignId}/skus/{scheduled.SkuId}"));

        using var buyer = factory.Buyer(2002);
        using var _ = await sale.ReserveAsync(buyer, "k");
        Assert.Equal("""{"total":1,"available":0,"state":"SoldOut"}""",
            await anonymous.GetStringAsync($"/api/v1/campaigns/{sale.CampaignId}/skus/{sale.SkuId}"));

        using var unknown = await anonymous.GetAsync($"/api/v1/campaigns/{sale.CampaignId}/skus/{sale.SkuId + 1}");
        await unknown.AssertProblemAsync(HttpStatusCode.NotFound, "not-found");
    }
}
