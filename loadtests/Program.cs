using FlashSale.LoadTests;
using FlashSale.LoadTests.Baseline;
using FlashSale.LoadTests.Cli;
using FlashSale.LoadTests.Scenarios;
using FlashSale.LoadTests.Scenarios.FullSale;
using Spectre.Console.Cli;

var app = new CommandApp();
app.Configure(config =>
{
    config.SetApplicationName("dotnet run -c Release --project loadtests --");
    config.UseStrictParsing();
    // Usage errors exit 2, as scripts expect; the runner reports its own failures with exit codes 1 and 3.
    config.SetExceptionHandler((exception, _) =>
    {
        Console.Error.WriteLine($"error: {(exception is CommandAppException ? exception.Message : exception.ToString())}");
        Console.Error.WriteLine("Run with --help for the options.");
        return exception is CommandAppException ? ExitCodes.Usage : ExitCodes.SetupFailed;
    });
    config.AddCommand<HotSkuCommand>(HotSkuScenario.ScenarioName).WithDescription(HotSkuCommand.Description)
        .WithExample(HotSkuScenario.ScenarioName, "--buyers", "200000", "--stock", "5000", "--rate", "20000", "--duration", "30s");
    config.AddCommand<SoldOutFloodCommand>(SoldOutFloodScenario.ScenarioName).WithDescription(SoldOutFloodCommand.Description)
        .WithExample(SoldOutFloodScenario.ScenarioName, "--rate", "2000", "--duration", "10s");
    config.AddCommand<ManySkusCommand>(ManySkusScenario.ScenarioName).WithDescription(ManySkusCommand.Description)
        .WithExample(ManySkusScenario.ScenarioName, "--skus", "20", "--skew", "1", "--stock", "200", "--rate", "1500");
    config.AddCommand<ReplayStormCommand>(ReplayStormScenario.ScenarioName).WithDescription(ReplayStormCommand.Description)
        .WithExample(ReplayStormScenario.ScenarioName, "--rate", "1000", "--duration", "10s");
    config.AddCommand<FullSaleCommand>(FullSaleScenario.ScenarioName).WithDescription(FullSaleCommand.Description)
        .WithExample(FullSaleScenario.ScenarioName, "--stock", "500", "--rate", "500", "--duration", "10s");
    config.AddCommand<WaitingRoomCommand>(WaitingRoomScenario.ScenarioName).WithDescription(WaitingRoomCommand.Description)
        .WithExample(WaitingRoomScenario.ScenarioName, "--stock", "100", "--duration", "20s");
    config.AddCommand<ClientOverheadCommand>(ClientOverheadCommand.Name).WithDescription(ClientOverheadCommand.Description)
        .WithExample(ClientOverheadCommand.Name, "--concurrency", "64", "--duration", "10s");
    config.AddCommand<TokensCommand>(TokensCommand.Name).WithDescription(TokensCommand.Description)
        .WithExample(TokensCommand.Name, "--buyers", "1000");
});

using var interrupt = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // The first Ctrl+C stops sending and still reports and verifies; a second one ends the process.
    if (!interrupt.IsCancellationRequested)
    {
        e.Cancel = true;
        Console.Error.WriteLine("Stopping: waiting for answers in flight, then verifying. Ctrl+C again to abort.");
        interrupt.Cancel();
    }
};
return await app.RunAsync(args, interrupt.Token);
