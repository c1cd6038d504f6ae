using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using MySqlConnector;
using Spectre.Console;
using Spectre.Console.Cli;
using StackExchange.Redis;

namespace FlashSale.Warmup.Infrastructure;

/// <summary>
/// Turns what commands cannot handle into one readable line and an exit code. An operator at a
/// terminal during a launch needs "Redis at 127.0.0.1:6380 is unreachable", not a stack trace.
/// </summary>
internal static class Failures
{
    public static int Report(Exception exception, IConfiguration configuration)
    {
        switch (exception)
        {
            // Spectre wraps what a command's constructor threw, such as invalid Auth options.
            case CommandAppException { InnerException: { } inner }:
                return Report(inner, configuration);
            case CommandAppException { Pretty: { } pretty }:
                Output.Error.Write(pretty);
                return ExitCodes.Usage;
            case CommandAppException:
                Output.Fail(exception.Message);
                return ExitCodes.Usage;
            case OperationCanceledException:
                Output.Fail("Cancelled.");
                return ExitCodes.Cancelled;
            case MySqlException:
                Output.Fail($"Catalog database {CatalogServer(configuration)}: {exception.Message}");
                return ExitCodes.Failed;
            case RedisConnectionException redis:
                Output.Fail($"Redis at {RedisServer(configuration)} is unreachable ({redis.FailureType}).");
                return ExitCodes.Failed;
            case RedisTimeoutException:
                Output.Fail($"Redis at {RedisServer(configuration)} did not answer in time.");
                return ExitCodes.Failed;
            case RedisException:
                Output.Fail($"Redis at {RedisServer(configuration)}: {exception.Message}");
                return ExitCodes.Failed;
            case OptionsValidationException:
                Output.Fail($"Invalid configuration: {exception.Message}");
                return ExitCodes.Failed;
            case InvalidOperationException:
                // The engine reports missing configuration and schema drift this way, in a sentence.
                Output.Fail(exception.Message);
                return ExitCodes.Failed;
            default:
                // Anything else is a bug: the trace is what the engineer fixing it needs.
                Output.Error.WriteException(exception, ExceptionFormats.ShortenEverything);
                return ExitCodes.Failed;
        }
    }

    // Only host and port: a connection string carries the password.
    private static string CatalogServer(IConfiguration configuration)
    {
        try
        {
            var builder = new MySqlConnectionStringBuilder(configuration.GetConnectionString("Catalog") ?? "");
            return $"{builder.Server}:{builder.Port}";
        }
        catch (ArgumentException)
        {
            return "(unparsable ConnectionStrings:Catalog)";
        }
    }

    private static string RedisServer(IConfiguration configuration)
    {
        try
        {
            var options = ConfigurationOptions.Parse(configuration.GetConnectionString("Redis") ?? "");
            return string.Join(", ", options.EndPoints.Select(EndPointCollection.ToString));
        }
        catch (ArgumentException)
        {
            return "(unparsable ConnectionStrings:Redis)";
        }
    }
}
