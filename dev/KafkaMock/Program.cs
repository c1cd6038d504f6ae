using FlashSale.KafkaMock;
using Spectre.Console.Cli;

var app = new CommandApp<MockCommand>();
app.Configure(config =>
{
    config.SetApplicationName("FlashSale.KafkaMock");
    config.UseStrictParsing();
    // A mistyped command line exits 2, as it always has; dev/kafka.sh then shows the log.
    config.SetExceptionHandler((exception, _) =>
    {
        Console.Error.WriteLine(exception is CommandAppException ? $"error: {exception.Message}" : exception.ToString());
        return exception is CommandAppException ? 2 : 1;
    });
});
return await app.RunAsync(args);
