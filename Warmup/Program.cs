using FlashSale.Engine;
using FlashSale.Engine.Campaigns;
using FlashSale.Engine.Reconciliation;
using FlashSale.Warmup.Auth;
using FlashSale.Warmup.Campaigns;
using FlashSale.Warmup.Infrastructure;
using FlashSale.Warmup.Scripts;
using FlashSale.Warmup.Stock;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console.Cli;

Output.UnwrapRedirected();

var builder = WarmupHost.CreateBuilder();
builder.AddCampaigns();
builder.AddReconciliation();
builder.AddFlashSaleTokens();
builder.Services.AddSingleton<CatalogSchema>();

var app = new CommandApp(new HostTypeRegistrar(builder));
app.Configure(config =>
{
    config.SetApplicationName("warmup");
    config.SetExceptionHandler((exception, _) => Failures.Report(exception, builder.Configuration));
    config.SetInterceptor(new ConnectionStringCheck(builder.Configuration));
    config.AddCommand<ImportCommand>("import")
        .WithDescription("Validate a campaign definition file and store it in the catalog.")
        .WithExample("import", "campaign.json");
    config.AddCommand<LoadCommand>("load")
        .WithDescription("Load a campaign's stock into Redis (refused when it is already live, unless --force).")
        .WithExample("load", "--campaign", "spring-2026");
    config.AddCommand<StatusCommand>("status")
        .WithDescription("Show each SKU's price, total and available stock and state.")
        .WithExample("status", "--campaign", "spring-2026");
    config.AddCommand<ReconcileCommand>("reconcile")
        .WithDescription("Compare each SKU's Redis stock and ledger with its orders in MySQL; --repair repairs the drift. Exits 5 while drift remains.")
        .WithExample("reconcile", "--campaign", "spring-2026", "--repair");
    config.AddCommand<ScriptCommand>("script")
        .WithDescription("List the engine's Lua scripts with their SHA1, or print one as Redis runs it (prelude included).")
        .WithExample("script", "reserve-many.lua");
    config.AddCommand<TokenCommand>("token")
        .WithDescription("Print a bearer token for development and load tests (only the token, on stdout).")
        .WithExample("token", "--user", "42", "--admin");
});

using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // The first Ctrl+C cancels the command's token so it stops at its next await; a second one ends the process.
    e.Cancel = !cancellation.IsCancellationRequested;
    cancellation.Cancel();
};
return await app.RunAsync(args, cancellation.Token);
