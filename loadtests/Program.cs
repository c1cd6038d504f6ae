using FlashSale.LoadTests;
using FlashSale.LoadTests.Cli;

var parsed = CommandLine.Parse(args);
if (parsed.ShowHelp)
{
    Console.Out.Write(CommandLine.HelpText());
    return ExitCodes.Ok;
}
if (parsed.Options is null)
{
    Console.Error.WriteLine($"error: {parsed.Error}");
    Console.Error.WriteLine("Run with --help for the options.");
    return ExitCodes.Usage;
}

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
return await LoadTestRunner.RunAsync(parsed.Options, interrupt.Token);
