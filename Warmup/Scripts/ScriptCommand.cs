using System.ComponentModel;
using FlashSale.Engine.Redis;
using FlashSale.Warmup.Infrastructure;
using Spectre.Console;
using Spectre.Console.Cli;

namespace FlashSale.Warmup.Scripts;

internal sealed class ScriptSettings : CommandSettings
{
    [CommandArgument(0, "[NAME]")]
    [Description("A script's file name (e.g. reserve-many.lua): print its whole text as Redis runs it. Without it: list the scripts.")]
    public string? Name { get; init; }

    public override ValidationResult Validate()
        => Name is null || RedisScript.Names.Contains(Name)
            ? ValidationResult.Success()
            : ValidationResult.Error($"No script {Name}; the scripts are: {string.Join(", ", RedisScript.Names)}.");
}

/// <summary>
/// The engine's Lua scripts as Redis runs them: with the generated reply codes and the shared prelude in front, so an
/// operator can check <c>SCRIPT EXISTS</c> by SHA1, and a benchmark (loadtests/baselines/redis-evalsha.sh) can load the
/// exact text the engine sends. Needs no service.
/// </summary>
internal sealed class ScriptCommand : Command<ScriptSettings>
{
    public override int Execute(CommandContext context, ScriptSettings settings, CancellationToken cancellationToken)
    {
        if (settings.Name is { } name)
        {
            // Not AnsiConsole: it would wrap and mark up the text.
            Console.Out.Write(RedisScript.Load(name).Text);
            return ExitCodes.Ok;
        }
        var table = new Table().AddColumn("Script").AddColumn("SHA1 (EVALSHA)").AddColumn(new TableColumn("Bytes").RightAligned());
        foreach (var script in RedisScript.Names.Select(RedisScript.Load))
        {
            table.AddRow(script.Name + ".lua", Convert.ToHexStringLower(script.Hash), script.Text.Length.ToString("N0", System.Globalization.CultureInfo.InvariantCulture));
        }
        AnsiConsole.Write(table);
        return ExitCodes.Ok;
    }
}
