using Spectre.Console;

namespace FlashSale.Warmup.Infrastructure;

/// <summary>Results go to stdout; errors, warnings and notes go to stderr, so stdout stays scriptable.</summary>
internal static class Output
{
    public static IAnsiConsole Error { get; } = AnsiConsole.Create(new AnsiConsoleSettings
    {
        Out = new AnsiConsoleOutput(Console.Error),
    });

    /// <summary>
    /// Without a terminal Spectre assumes 80 columns and breaks longer lines, which splits an
    /// error in a CI log in two; a redirected stream gets lines as long as they are.
    /// </summary>
    public static void UnwrapRedirected()
    {
        if (Console.IsOutputRedirected)
        {
            AnsiConsole.Profile.Width = RedirectedWidth;
        }
        if (Console.IsErrorRedirected)
        {
            Error.Profile.Width = RedirectedWidth;
        }
    }

    private const int RedirectedWidth = 4096;

    public static void Fail(string message) => Error.MarkupLineInterpolated($"[red]error:[/] {message}");

    public static void Warn(string message) => Error.MarkupLineInterpolated($"[yellow]warning:[/] {message}");

    public static void Note(string message) => Error.MarkupLineInterpolated($"[grey]{message}[/]");
}
