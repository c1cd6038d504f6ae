using System.Net;
using FlashSale.Tests.Infrastructure;
using Microsoft.Playwright;

namespace FlashSale.Tests.Console;

/// <summary>
/// The engine as processes (an Ingress, a Persister) with the demo campaign of <c>dev/demo-campaign.json</c> created and warmed,
/// and a headless Debian Chromium driven by Playwright. Chromium missing is a failure, never a skip: dev/test.sh installs it.
/// </summary>
public sealed class ConsoleFixture : PipelineFixture
{
    public const string ChromiumPath = "/usr/bin/chromium";
    public const string DemoCampaign = "demo-2026";

    private IPlaywright? _playwright;
    private string? _adminToken;

    public IBrowser Browser { get; private set; } = null!;

    /// <summary>An admin token of this deployment, as <c>dev/up.sh</c> prints one.</summary>
    public string AdminToken => _adminToken ??= Tokens.Mint(1, admin: true);

    public override async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException($"{ChromiumPath} is missing: the console's browser tests drive Debian's Chromium (apt-get install chromium; dev/test.sh does).");
        }
        await base.InitializeAsync();
        using var admin = Client(AdminToken);
        var definition = await File.ReadAllTextAsync(Path.Combine(Repository.Root, "dev", "demo-campaign.json"));
        using (var created = await admin.PostAsync("/api/v1/admin/campaigns", TestSale.Json(definition)))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }
        using (var warmed = await admin.PostAsync($"/api/v1/admin/campaigns/{DemoCampaign}/warmup", null))
        {
            Assert.Equal(HttpStatusCode.OK, warmed.StatusCode);
        }

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        });
    }

    /// <summary>A fresh browser context (its own sessionStorage) and page, recording every console error the page logs.</summary>
    public async Task<ConsolePage> OpenAsync(string? fragment, int width = 1280, int height = 900)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            Locale = "en-US",
            ViewportSize = new ViewportSize { Width = width, Height = height },
        });
        var page = await context.NewPageAsync();
        var console = new ConsolePage(context, page);
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                console.Errors.Add(message.Text);
            }
        };
        page.PageError += (_, error) => console.Errors.Add("uncaught: " + error);
        await page.GotoAsync(new Uri(IngressUrl, "/console").ToString() + (fragment is null ? "" : "#" + fragment));
        return console;
    }

    public override async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }
        _playwright?.Dispose();
        await base.DisposeAsync();
    }
}

public sealed class ConsolePage(IBrowserContext context, IPage page) : IAsyncDisposable
{
    public IPage Page { get; } = page;

    public List<string> Errors { get; } = [];

    /// <summary>A screenshot into the test results (TestResults/console/), never into the repository.</summary>
    public async Task ScreenshotAsync(string name)
    {
        var directory = Path.Combine(Repository.Root, "TestResults", "console");
        Directory.CreateDirectory(directory);
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(directory, name + ".png"), FullPage = true });
    }

    public async ValueTask DisposeAsync() => await context.CloseAsync();
}
