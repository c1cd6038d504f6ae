using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FlashSale.Contracts;
using FlashSale.Engine.Campaigns;
using FlashSale.Engine.Reconciliation;
using FlashSale.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace FlashSale.Tests.Console;

/// <summary>What the console needs from the admin API, and the page itself, in process.</summary>
[Collection(IngressCollection.Name)]
public sealed class ConsoleApiTests(IngressFactory factory)
{
    [Fact]
    public async Task CampaignListNamesEachCampaignWithItsWindowAndSkuCount()
    {
        var sale = await TestSale.StartAsync(factory, stock: 7);
        using var admin = factory.Admin();

        using var response = await admin.GetAsync(ApiRoutes.AdminCampaigns + "?limit=1000");
        var list = await response.Content.ReadFromJsonAsync<List<CampaignSummaryView>>(JsonSerializerOptions.Web);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var campaign = Assert.Single(list!, c => c.CampaignId == sale.CampaignId);
        Assert.Equal(1, campaign.SkuCount);
        Assert.Equal(900, campaign.PaymentWindowSeconds);
        Assert.True(campaign.EndsAt > campaign.StartsAt);
        // The latest to start first.
        Assert.Equal(list!.OrderByDescending(c => c.StartsAt).Select(c => c.StartsAt), list!.Select(c => c.StartsAt));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("1001")]
    public async Task CampaignListRefusesALimitOutOfRange(string limit)
    {
        using var admin = factory.Admin();
        using var response = await admin.GetAsync($"{ApiRoutes.AdminCampaigns}?limit={limit}");
        await response.AssertProblemAsync(HttpStatusCode.BadRequest, ProblemTypes.InvalidLimit);
    }

    [Fact]
    public async Task ReconcileAnswersWhatTheEnginesReconcilerFinds()
    {
        var sale = await TestSale.StartAsync(factory, stock: 10, perUserLimit: 5);
        using var buyer = factory.Buyer(4242);
        using (var reserved = await sale.ReserveAsync(buyer, "console-reconcile-1", quantity: 3))
        {
            Assert.Equal(HttpStatusCode.Created, reserved.StatusCode);
        }
        using var admin = factory.Admin();

        using var check = await admin.PostAsync(ApiRoutes.CampaignReconcilePath(sale.CampaignId), null);
        var answer = await check.Content.ReadFromJsonAsync<ReconcileResponse>(JsonSerializerOptions.Web);
        // The CLI's way: the same Reconciler, called directly.
        var campaign = await factory.Services.GetRequiredService<CampaignStore>().GetAsync(sale.CampaignId, CancellationToken.None);
        var direct = await factory.Services.GetRequiredService<Reconciler>().ReconcileAsync(campaign!, repair: false);

        Assert.Equal(HttpStatusCode.OK, check.StatusCode);
        Assert.False(answer!.Repaired);
        var sku = Assert.Single(answer.Skus);
        Assert.Equal(sale.SkuId, sku.SkuId);
        Assert.Equal(direct[0].After.Redis.Available, sku.After.Redis.Available);
        Assert.Equal(7, sku.After.Redis.Available);
        Assert.Equal(3, sku.After.Redis.Reserved);
        // Not in MySQL yet (no Persister in process), but young: in flight, not drift.
        Assert.Equal(3, sku.After.InFlight);
        Assert.Equal(0, answer.Drift);
        Assert.Empty(sku.Repairs);

        using var repair = await admin.PostAsync(ApiRoutes.CampaignReconcilePath(sale.CampaignId, repair: true), null);
        var repaired = await repair.Content.ReadFromJsonAsync<ReconcileResponse>(JsonSerializerOptions.Web);
        Assert.Equal(HttpStatusCode.OK, repair.StatusCode);
        Assert.True(repaired!.Repaired);
        Assert.Equal(0, repaired.Drift);
        Assert.Equal(7, repaired.Skus[0].After.Redis.Available);
    }

    [Fact]
    public async Task ReconcileOfAnUnknownCampaignOrWithABadFlagIsRefused()
    {
        using var admin = factory.Admin();
        using var unknown = await admin.PostAsync(ApiRoutes.CampaignReconcilePath(TestSale.NewCampaignId()), null);
        await unknown.AssertProblemAsync(HttpStatusCode.NotFound, ProblemTypes.NotFound);

        var sale = await TestSale.StartAsync(factory, stock: 1);
        using var bad = await admin.PostAsync(ApiRoutes.AdminCampaignPath(sale.CampaignId) + "/reconcile?repair=maybe", null);
        var problem = await bad.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid-repair");
        Assert.Equal("repair", problem.GetProperty("parameter").GetString());
    }

    [Fact]
    public async Task LiveStreamAndAdminListNeedAnAdminToken()
    {
        using var anonymous = factory.CreateClient();
        using var buyer = factory.Buyer(77);

        using var noToken = await anonymous.GetAsync(ApiRoutes.AdminLive, HttpCompletionOption.ResponseHeadersRead);
        using var buyersLive = await buyer.GetAsync(ApiRoutes.AdminLive, HttpCompletionOption.ResponseHeadersRead);
        using var buyersList = await buyer.GetAsync(ApiRoutes.AdminCampaigns);

        await noToken.AssertProblemAsync(HttpStatusCode.Unauthorized, ProblemTypes.Unauthorized);
        await buyersLive.AssertProblemAsync(HttpStatusCode.Forbidden, ProblemTypes.Forbidden);
        await buyersList.AssertProblemAsync(HttpStatusCode.Forbidden, ProblemTypes.Forbidden);
    }

    [Fact]
    public async Task ConsolePageIsServedFromTheIngressItselfUnderAStrictPolicy()
    {
        using var client = factory.CreateClient();

        using var page = await client.GetAsync(ApiRoutes.ConsolePage);
        var html = await page.Content.ReadAsStringAsync();
        using var script = await client.GetAsync(ApiRoutes.ConsolePage + "/console.js");
        using var style = await client.GetAsync(ApiRoutes.ConsolePage + "/console.css");

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var policy = string.Join(";", page.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("default-src 'none'", policy, StringComparison.Ordinal);
        Assert.Contains("connect-src 'self'", policy, StringComparison.Ordinal);
        // Nothing from another origin: no CDN, no font service.
        Assert.DoesNotContain("://", html, StringComparison.Ordinal);
        Assert.Contains("src=\"/console/console.js\"", html, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.Contains("sessionStorage", await script.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, style.StatusCode);
        Assert.Equal("text/css", style.Content.Headers.ContentType?.MediaType);
    }
}
