using System.ComponentModel;
using FlashSale.LoadTests.EngineApi;
using Spectre.Console;
using Spectre.Console.Cli;

namespace FlashSale.LoadTests.Cli;

public sealed class TokensOptions : CommandSettings
{
    [CommandOption("--buyers <N>")]
    [Description("How many buyers, ids from --first on.")]
    [DefaultValue(1000)]
    public int Buyers { get; init; }

    [CommandOption("--first <N>")]
    [Description("The first buyer id.")]
    [DefaultValue(1L)]
    public long First { get; init; }

    [CommandOption("--admin")]
    [Description("Print the admin token's header value instead.")]
    public bool Admin { get; init; }

    public override ValidationResult Validate()
        => Buyers > 0 && First > 0 ? ValidationResult.Success() : ValidationResult.Error("--buyers and --first must be positive.");
}

/// <summary>
/// Authorization header values ("Bearer ...") minted as the harness mints them, one per line on stdout,
/// for clients other than the harness (loadtests/wrk reads them), from the same key (FLASHSALE_SIGNING_KEY
/// or the development key).
/// </summary>
public sealed class TokensCommand : Command<TokensOptions>
{
    public const string Name = "tokens";
    public const string Description = "Print Authorization header values (Bearer tokens) for buyers --first.. (--buyers of them), or the admin's, one per line.";

    public override int Execute(CommandContext context, TokensOptions settings, CancellationToken cancellationToken)
    {
        var tokens = BuyerTokens.FromEnvironment(out _);
        if (settings.Admin)
        {
            Console.Out.WriteLine(tokens.Admin);
            return ExitCodes.Ok;
        }
        var buyers = Enumerable.Range(0, settings.Buyers).Select(i => settings.First + i).ToList();
        tokens.Prepare(buyers, cancellationToken);
        using var output = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = false };
        foreach (var buyer in buyers)
        {
            output.WriteLine(tokens.For(buyer));
        }
        return ExitCodes.Ok;
    }
}
