using System.Net;
using FlashSale.Tests.Infrastructure;

namespace FlashSale.Tests.Api;

/// <summary>startsAt and endsAt lie between 2000 and 2100, and a campaign lasts at most five years.</summary>
[Collection(IngressCollection.Name)]
public sealed class CampaignWindowTests(IngressFactory factory)
{
    private async Task<HttpResponseMessage> CreateAsync(string id, string startsAt, string endsAt)
    {
        using var admin = factory.Admin();
        return await admin.PostAsync("/api/v1/admin/campaigns", TestSale.Json($$"""
            {"campaignId":"{{id}}","startsAt":"{{startsAt}}","endsAt":"{{endsAt}}","paymentWindowSeconds":900,
             "skus":[{"skuId":1,"price":"1.00","stock":5,"perUserLimit":1}]}
            """));
    }

    [Theory]
    [InlineData("0001-01-01T00:00:00Z", "2026-01-01T00:00:00Z", "startsAt")]
    [InlineData("0001-01-01T00:00:00Z", "0001-01-02T00:00:00Z", "startsAt")]
    [InlineData("1999-12-31T23:59:59Z", "2000-01-02T00:00:00Z", "startsAt")]
    [InlineData("2026-01-01T00:00:00Z", "2100-01-01T00:00:00.001Z", "endsAt")]
    [InlineData("2026-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "endsAt")]
    [InlineData("2100-01-01T00:00:00Z", "2100-01-02T00:00:00Z", "startsAt")]
    [InlineData("2026-01-01T00:00:00Z", "2031-01-01T00:00:00.001Z", "endsAt")]
    public async Task WindowOutsideTheSaneRangeIsInvalid(string startsAt, string endsAt, string field)
    {
        var id = TestSale.NewCampaignId();

        using var response = await CreateAsync(id, startsAt, endsAt);

        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid-campaign");
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
        using var admin = factory.Admin();
        using var stored = await admin.GetAsync($"/api/v1/admin/campaigns/{id}");
        Assert.Equal(HttpStatusCode.NotFound, stored.StatusCode);
    }

    [Theory]
    [InlineData("2000-01-01T00:00:00Z", "2000-01-01T02:00:00Z")]
    [InlineData("2099-12-31T22:00:00Z", "2100-01-01T00:00:00Z")]
    [InlineData("2026-01-01T00:00:00Z", "2031-01-01T00:00:00Z")]
    public async Task WindowAtTheEdgesIsAccepted(string startsAt, string endsAt)
    {
        using var response = await CreateAsync(TestSale.NewCampaignId(), startsAt, endsAt);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Theory]
    [InlineData("0001-01-01T00:00:00+01:00")]
    [InlineData("9999-12-31T23:59:59-01:00")]
    [InlineData("2026-13-01T00:00:00Z")]
    [InlineData("tomorrow")]
    public async Task UnrepresentableInstantIsBadRequest(string startsAt)
    {
        using var response = await CreateAsync(TestSale.NewCampaignId(), startsAt, "2026-01-01T00:00:00Z");

        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid-body");
        Assert.Equal("startsAt", problem.GetProperty("field").GetString());
    }
}
