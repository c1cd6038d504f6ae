using System.Net;
using System.Text.Json;
using FlashSale.Tests.Infrastructure;
using Microsoft.Playwright;

namespace FlashSale.Tests.Console;

/// <summary>The operator console in a real browser (headless Debian Chromium) against the engine's processes.</summary>
[Collection(PipelineCollection.Name)]
[Trait("Category", "Slow")]
public sealed class ConsoleBrowserTests(ConsoleFixture engine) : IClassFixture<ConsoleFixture>
{
    private static readonly LocatorAssertionsToHaveAttributeOptions TenSeconds = new() { Timeout = 10_000 };

    /// <summary>Set to a path (docs/console.png) to refresh the README's screenshot from the sale test.</summary>
    private static readonly string? ReadmeScreenshot = Environment.GetEnvironmentVariable("FLASHSALE_CONSOLE_SCREENSHOT");

    [Fact]
    public async Task ConsoleOpenedWithTheDevAdminTokenListsTheDemoCampaignAndItsSkus()
    {
        await using var console = await engine.OpenAsync("token=" + engine.AdminToken);
        var page = console.Page;

        var demo = page.Locator($"article[data-campaign='{ConsoleFixture.DemoCampaign}']");
        await Assertions.Expect(demo.Locator("h3")).ToHaveTextAsync(ConsoleFixture.DemoCampaign, new() { Timeout = 10_000 });
        await Assertions.Expect(demo.Locator("tr[data-sku='1001'] td[data-field='total']")).ToHaveTextAsync("100", new() { Timeout = 10_000 });
        // Thousands separators.
        await Assertions.Expect(demo.Locator("tr[data-sku='1002'] td[data-field='total']")).ToHaveTextAsync("1,000");
        await Assertions.Expect(demo.Locator("tr[data-sku='1002'] td[data-field='state']")).ToHaveTextAsync("OnSale");
        await Assertions.Expect(page.Locator("#sign-in")).ToBeHiddenAsync();
        // The token left the address bar and lives in the tab's sessionStorage only.
        Assert.DoesNotContain("token", page.Url, StringComparison.Ordinal);
        Assert.Equal(engine.AdminToken, await page.EvaluateAsync<string>("() => sessionStorage.getItem('flashsale.console.token')"));

        // From a phone's width the page still shows the SKUs, without a horizontal scroll of the page itself.
        await page.SetViewportSizeAsync(390, 844);
        await Assertions.Expect(demo.Locator("tr[data-sku='1001']")).ToBeVisibleAsync();
        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth + 1"));
        await console.ScreenshotAsync("phone");
        Assert.Empty(console.Errors);
    }

    [Fact]
    public async Task WhileUnitsSellThePageReachesTheServersAvailableCountAndTheChartShowsTraffic()
    {
        await using var console = await engine.OpenAsync("token=" + engine.AdminToken);
        var page = console.Page;
        var available = page.Locator($"article[data-campaign='{ConsoleFixture.DemoCampaign}'] tr[data-sku='1002'] td[data-field='available']");
        await Assertions.Expect(available).ToBeVisibleAsync(new() { Timeout = 10_000 });

        // Twelve buyers, one unit each, a little at a time so the chart sees traffic in more than one second.
        for (var round = 0; round < 3; round++)
        {
            await Task.WhenAll(Enumerable.Range(0, 4).Select(async i =>
            {
                using var buyer = engine.Client(engine.Tokens.Mint(10_000 + (round * 4) + i));
                using var reserved = await TestSale.SendReservationAsync(buyer,
                    $"/api/v1/campaigns/{ConsoleFixture.DemoCampaign}/skus/1002/reservations", $"console-sale-{Guid.NewGuid():N}");
                Assert.Equal(HttpStatusCode.Created, reserved.StatusCode);
            }));
        }
        using var client = engine.Client();
        var server = JsonDocument.Parse(await client.GetStringAsync($"/api/v1/campaigns/{ConsoleFixture.DemoCampaign}/skus/1002"));
        var serverAvailable = server.RootElement.GetProperty("available").GetInt32();
        Assert.True(serverAvailable <= 1_000 - 12);

        await Assertions.Expect(available).ToHaveAttributeAsync("data-value", serverAvailable.ToString(System.Globalization.CultureInfo.InvariantCulture), TenSeconds);
        // en-US's thousands separator, as the invariant culture writes it.
        await Assertions.Expect(available).ToHaveTextAsync(serverAvailable.ToString("N0", System.Globalization.CultureInfo.InvariantCulture));
        await page.WaitForFunctionAsync(
            "() => Number(document.querySelector('#rate-legend li[data-outcome=\"created\"]')?.dataset.peak) > 0",
            null, new PageWaitForFunctionOptions { Timeout = 10_000 });
        var created = await page.Locator("#rate-legend li[data-outcome='created']").GetAttributeAsync("data-peak");
        Assert.InRange(int.Parse(created!, System.Globalization.CultureInfo.InvariantCulture), 1, 12);
        // The chart's canvas has been drawn on (not blank).
        Assert.True(await page.EvaluateAsync<bool>("""
            () => { const c = document.getElementById('rate-chart'); const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                    for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) return true; return false; }
            """));

        await console.ScreenshotAsync("sale");
        if (!string.IsNullOrEmpty(ReadmeScreenshot))
        {
            await page.SetViewportSizeAsync(1280, 900);
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = ReadmeScreenshot, FullPage = false });
        }
        Assert.Empty(console.Errors);
    }

    [Fact]
    public async Task CreatingACampaignShowsABadFieldsErrorBesideItAndAGoodOneIsListedAndWarmedFromThePage()
    {
        await using var console = await engine.OpenAsync("token=" + engine.AdminToken);
        var page = console.Page;
        await Assertions.Expect(page.Locator("#app")).ToBeVisibleAsync(new() { Timeout = 10_000 });
        var campaignId = TestSale.NewCampaignId();

        await page.GetByLabel("Campaign id").FillAsync(campaignId);
        await page.GetByLabel("Payment window (s)").FillAsync("0");
        await page.GetByLabel("SKU 1 id").FillAsync("501");
        await page.GetByLabel("Price", new() { Exact = true }).FillAsync("5.00");
        await page.GetByLabel("Stock", new() { Exact = true }).FillAsync("10");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create", Exact = true }).ClickAsync();

        await Assertions.Expect(page.Locator("#error-paymentWindowSeconds")).ToContainTextAsync("Between", new() { Timeout = 10_000 });
        await Assertions.Expect(page.GetByLabel("Payment window (s)")).ToHaveAttributeAsync("aria-invalid", "true");
        await Assertions.Expect(page.Locator("#error-campaignId")).ToBeEmptyAsync();
        await console.ScreenshotAsync("create-error");
        using var admin = engine.Client(engine.AdminToken);
        using (var missing = await admin.GetAsync($"/api/v1/admin/campaigns/{campaignId}"))
        {
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        }

        await page.GetByLabel("Payment window (s)").FillAsync("900");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create", Exact = true }).ClickAsync();
        var block = page.Locator($"article[data-campaign='{campaignId}']");
        await Assertions.Expect(block).ToBeVisibleAsync(new() { Timeout = 10_000 });
        await Assertions.Expect(page.Locator("#error-paymentWindowSeconds")).ToBeEmptyAsync();

        await block.Locator("button[data-action='warmup']").ClickAsync();
        await Assertions.Expect(page.Locator("#action-message")).ToContainTextAsync($"Warmed up {campaignId}: SKU 501 Loaded, 10 available", new() { Timeout = 10_000 });
        // And the live view picks it up (the campaign list is read every 5 s).
        await Assertions.Expect(block.Locator("tr[data-sku='501'] td[data-field='state']")).ToHaveTextAsync("OnSale", new() { Timeout = 15_000 });
        using var client = engine.Client();
        var stock = JsonDocument.Parse(await client.GetStringAsync($"/api/v1/campaigns/{campaignId}/skus/501"));
        Assert.Equal(10, stock.RootElement.GetProperty("available").GetInt32());

        // The only error the browser logged is the refused create's 400, which the page showed beside the field.
        Assert.All(console.Errors, e => Assert.Contains("status of 400", e, StringComparison.Ordinal));
        Assert.Single(console.Errors);
    }

    [Fact]
    public async Task WithoutATokenOrWithABuyersThePageShowsNoDataAndTheStreamRefuses()
    {
        await using var anonymous = await engine.OpenAsync(fragment: null);
        await Assertions.Expect(anonymous.Page.Locator("#sign-in")).ToBeVisibleAsync(new() { Timeout = 10_000 });
        await Assertions.Expect(anonymous.Page.Locator("#app")).ToBeHiddenAsync();
        Assert.Equal(0, await anonymous.Page.Locator("#campaigns > *").CountAsync());
        Assert.Equal(401, await anonymous.Page.EvaluateAsync<int>("async () => (await fetch('/api/v1/admin/live')).status"));
        Assert.DoesNotContain(ConsoleFixture.DemoCampaign, await anonymous.Page.ContentAsync(), StringComparison.Ordinal);

        var buyerToken = engine.Tokens.Mint(42);
        await using var buyer = await engine.OpenAsync("token=" + buyerToken);
        await Assertions.Expect(buyer.Page.Locator("#sign-in-message")).ToContainTextAsync("not an admin", new() { Timeout = 10_000 });
        await Assertions.Expect(buyer.Page.Locator("#app")).ToBeHiddenAsync();
        Assert.Equal(0, await buyer.Page.Locator("#campaigns > *").CountAsync());
        Assert.DoesNotContain(ConsoleFixture.DemoCampaign, await buyer.Page.ContentAsync(), StringComparison.Ordinal);
        Assert.Null(await buyer.Page.EvaluateAsync<string?>("() => sessionStorage.getItem('flashsale.console.token')"));
        Assert.Equal(403, await buyer.Page.EvaluateAsync<int>(
            "async (token) => (await fetch('/api/v1/admin/live', { headers: { Authorization: 'Bearer ' + token } })).status", buyerToken));
        await buyer.ScreenshotAsync("buyer-refused");
        // Besides the refusals asked for, the page logged nothing: no script error.
        Assert.All(anonymous.Errors.Concat(buyer.Errors), e => Assert.Matches("status of 40[13]", e));
    }
}
