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

    [Fact]
    public async Task OpenApiDocumentDescribesTheWaitingRoom()
    {
        using var client = factory.CreateClient();

        var paths = (await (await client.GetAsync("/openapi/v1.json")).JsonAsync()).GetProperty("paths");

        var reserve = paths.GetProperty("/api/v1/campaigns/{campaignId}/skus/{skuId}/reservations").GetProperty("post").GetProperty("responses");
        Assert.True(reserve.TryGetProperty("403", out _));
        var join = paths.GetProperty("/api/v1/campaigns/{campaignId}/skus/{skuId}/queue").GetProperty("post").GetProperty("responses");
        Assert.True(join.TryGetProperty("202", out _));
        var poll = paths.GetProperty("/api/v1/campaigns/{campaignId}/skus/{skuId}/queue/{ticket}").GetProperty("get").GetProperty("responses");
        Assert.True(poll.GetProperty("200").GetProperty("content").TryGetProperty("application/json", out _));
    }
}
