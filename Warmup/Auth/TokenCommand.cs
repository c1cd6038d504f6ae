using System.ComponentModel;
using System.Globalization;
using FlashSale.Engine.Auth;
using FlashSale.Warmup.Infrastructure;
using Microsoft.Extensions.Hosting;
using Spectre.Console;
using Spectre.Console.Cli;

namespace FlashSale.Warmup.Auth;

internal sealed class TokenSettings : CommandSettings
{
    [CommandOption("-u|--user <ID>", isRequired: true)]
    [Description("The buyer's user id (the token's subject).")]
    public long UserId { get; init; }

    [CommandOption("--admin")]
    [Description("Add the admin role, which the campaign admin API requires.")]
    public bool Admin { get; init; }

    [CommandOption("--hours <N>")]
    [Description("Lifetime in hours.")]
    [DefaultValue(12)]
    public int Hours { get; init; }

    public override ValidationResult Validate()
    {
        if (UserId <= 0)
        {
            return ValidationResult.Error("--user must be a positive user id.");
        }
        return Hours > 0 ? ValidationResult.Success() : ValidationResult.Error("--hours must be at least 1.");
    }
}

/// <summary>
/// Mints a bearer token for development and load tests. Only the token goes to stdout, so that
/// <c>TOKEN=$(warmup token --user 42)</c> works; it needs the Auth settings and nothing else.
/// </summary>
internal sealed class TokenCommand(TokenIssuer issuer, IHostEnvironment environment, TimeProvider time) : Command<TokenSettings>
{
    public override int Execute(CommandContext context, TokenSettings settings, CancellationToken cancellationToken)
    {
        var lifetime = TimeSpan.FromHours(settings.Hours);
        var token = issuer.Mint(settings.UserId, settings.Admin, lifetime);
        if (!environment.IsDevelopment())
        {
            // Outside Development the key is a real deployment's: the token works there until it expires.
            var expires = (time.GetUtcNow() + lifetime).UtcDateTime.ToString("yyyy-MM-dd HH:mm'Z'", CultureInfo.InvariantCulture);
            Output.Warn($"Signed with the {environment.EnvironmentName} signing key: accepted by that environment's Ingress until {expires}.");
        }
        // Not AnsiConsole: it wraps long lines at the console width, which would break the token in two.
        Console.Out.WriteLine(token);
        return ExitCodes.Ok;
    }
}
