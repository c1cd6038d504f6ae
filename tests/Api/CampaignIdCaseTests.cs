using System.Net;
using FlashSale.Tests.Infrastructure;

namespace FlashSale.Tests.Api;

/// <summary>
/// Campaign ids are exact, in MariaDB as in Redis: an id that differs only in case names no campaign,
/// on every endpoint, and never reaches the real one.
/// </summary>
[Collection(IngressCollection.Name)]
public sealed class CampaignIdCaseTests(IngressFactory factory)
{
    private static string Alias(TestSale sale) => sale.CampaignId.ToUpperInvariant();

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AliasIsNotFoundOnEveryReadEndpoint(bool warm)
    {
        var sale = await TestSale.StartAsync(factory, stock: 5, warm: warm);
        using var admin = factory.Admin();
        using var anonymous = factory.CreateClient();

        using var sku = await anonymous.GetAsync($"/api/v1/campaigns/{Alias(sale)}/skus/{sale.SkuId}");
        using var campaign = await admin.GetAsync($"/api/v1/admin/campaigns/{Alias(sale)}");
        using var ledger = await admin.GetAsync($"/api/v1/admin/campaigns/{Alias(sale)}/skus/{sale.SkuId}/ledger");

        await sku.AssertProblemAsync(HttpStatusCode.NotFound, "not-found");
        await campaign.AssertProblemAsync(HttpStatusCode.NotFound, "not-found");
        await ledger.AssertProblemAsync(HttpStatusCode.NotFound, "not-found");
        using var real = await admin.GetAsync($"/api/v1/admin/campaigns/{sale.CampaignId}");
        Assert.Equal(HttpStatusCode.OK, real.StatusCode);
    }

    [Theory]
    [InlineData("")]
    [InlineData("?force=true")]
    public async Task WarmupOfAliasIsNotFoundAndDoesNotReloadTheRealCampaign(string query)
    {
        var sale = await TestSale.StartAsync(factory, stock: 5, perUserLimit: 2);
        using var buyer = factory.Buyer(9301);
        using var reserved = await sale.ReserveAsync(buyer, "k", quantity: 2);
        Assert.Equal(HttpStatusCode.Created, reserved.StatusCode);
        var before = await sale.SnapshotAsync();
        using var admin = factory.Admin();

        using var response = await admin.PostAsync($"/api/v1/admin/campaigns/{Alias(sale)}/warmup{query}", null);

        await response.AssertProblemAsync(HttpStatusCode.NotFound, "not-found");
        Assert.Equal(before, await sale.SnapshotAsync());
        Assert.False(await sale.Db.KeyExistsAsync(new Engine.Redis.SkuKeys(Alias(sale), sale.SkuId).Meta));
    }

    [Fact]
    public async Task ReservationOnAliasIsNotFound()
    {
        var sale = await TestSale.StartAsync(factory, stock: 5);
        using var buyer = factory.Buyer(9302);
        var before = await sale.SnapshotAsync();

        using var response = await TestSale.SendReservationAsync(buyer, $"/api/v1/campaigns/{Alias(sale)}/skus/{sale.SkuId}/reservations", "k");

        await response.AssertProblemAsync(HttpStatusCode.NotFound, "not-found");
        Assert.Equal(before, await sale.SnapshotAsync());
    }

    [Fact]
    public async Task CreatingAnAliasOfAnExistingIdIsAConflict()
    {
        var sale = await TestSale.StartAsync(factory, stock: 5, warm: false);
        using var admin = factory.Admin();

        using var response = await admin.PostAsync("/api/v1/admin/campaigns", TestSale.Json($$"""
            {"campaignId":"{{Alias(sale)}}","startsAt":"2026-01-01T00:00:00Z","endsAt":"2027-01-01T00:00:00Z","paymentWindowSeconds":900,
             "skus":[{"skuId":{{sale.SkuId}},"price":"1.00","stock":5,"perUserLimit":1}]}
            """));

        await response.AssertProblemAsync(HttpStatusCode.Conflict, "campaign-conflict");
        using var alias = await admin.GetAsync($"/api/v1/admin/campaigns/{Alias(sale)}");
        Assert.Equal(HttpStatusCode.NotFound, alias.StatusCode);
    }
}
