using System.Net;
using FlashSale.Tests.Infrastructure;

namespace FlashSale.Tests.Campaigns;

[Collection(IngressCollection.Name)]
public sealed class OperationsTests(IngressFactory factory)
{
    [Fact]
    public async Task HealthEndpointsReportLiveAndReady()
    {
        using var client = factory.CreateClient();

        Assert.Equal("Healthy", await client.GetStringAsync("/health/live"));
        Assert.Equal("Healthy", await client.GetStringAsync("/health/ready"));
    }

    [Fact]
    public async Task OpenApiDocumentDescribesTheReservationEndpoint()
    {
        using var client = factory.CreateClient();

        using var response = await client.GetAsync("/openapi/v1.json");
        var document = await response.JsonAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(document.GetProperty("paths").TryGetProperty("/api/v1/campaigns/{campaignId}/skus/{skuId}/reservations", out _));
    }
}
