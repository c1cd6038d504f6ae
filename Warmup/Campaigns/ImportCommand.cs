using System.ComponentModel;
using System.Text.Json;
using FlashSale.Engine.Campaigns;
using FlashSale.Warmup.Infrastructure;
using Microsoft.Extensions.Options;
using Spectre.Console;
using Spectre.Console.Cli;

namespace FlashSale.Warmup.Campaigns;

internal sealed class ImportSettings : CommandSettings
{
    [CommandArgument(0, "<CAMPAIGN_JSON>")]
    [Description("Path of the campaign definition: campaignId, startsAt, endsAt, paymentWindowSeconds, skus.")]
    public string Path { get; init; } = "";
}

/// <summary>Stores a campaign definition in the catalog. Importing the same file twice is harmless.</summary>
internal sealed class ImportCommand(CatalogSchema schema, CampaignStore campaigns, IOptions<CampaignOptions> options) : AsyncCommand<ImportSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ImportSettings settings, CancellationToken cancellationToken)
    {
        // The file is checked before the database is touched, so a definition can be reviewed offline.
        CampaignDefinition? definition;
        try
        {
            definition = await ReadAsync(settings.Path, options.Value.MinPaymentWindowSeconds, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Output.Fail($"Cannot read {settings.Path}: {ex.Message}");
            return ExitCodes.Failed;
        }
        if (definition is null)
        {
            return ExitCodes.Invalid;
        }

        await schema.ApplyAsync(cancellationToken);
        var outcome = await campaigns.CreateAsync(definition, cancellationToken);
        switch (outcome)
        {
            case CampaignCreateOutcome.Created:
                AnsiConsole.MarkupLineInterpolated(
                    $"[green]Created[/] campaign [bold]{definition.CampaignId}[/]: {definition.Skus.Count} SKU(s), {Formats.Units(definition.Skus.Sum(s => (long)s.Stock))} unit(s), {Window.Format(definition)}.");
                AnsiConsole.MarkupLineInterpolated($"Next: [bold]load --campaign {definition.CampaignId}[/] puts its stock into Redis.");
                return ExitCodes.Ok;
            case CampaignCreateOutcome.AlreadyExists:
                AnsiConsole.MarkupLineInterpolated(
                    $"Campaign [bold]{definition.CampaignId}[/] already exists with this same definition; nothing changed.");
                return ExitCodes.Ok;
            default:
                Output.Fail(
                    $"Campaign {definition.CampaignId} already exists with a different definition. A definition never changes once "
                    + "created, since stock may already have been sold against it; import the new definition under a new campaign id.");
                return ExitCodes.Conflict;
        }
    }

    /// <summary>The normalized definition, or null after its problems were printed.</summary>
    private static async Task<CampaignDefinition?> ReadAsync(string path, int minPaymentWindowSeconds, CancellationToken cancellationToken)
    {
        CampaignDefinition? definition;
        try
        {
            await using var file = File.OpenRead(path);
            definition = await JsonSerializer.DeserializeAsync(file, CampaignFileJson.Default.CampaignDefinition, cancellationToken);
        }
        catch (JsonException ex)
        {
            Output.Fail($"{path} is not a valid campaign definition: {WithLocation(ex)}");
            return null;
        }

        var errors = CampaignValidator.Validate(definition, minPaymentWindowSeconds);
        if (errors.Count > 0)
        {
            Output.Fail($"{path} is not a valid campaign definition:");
            foreach (var (field, problems) in errors)
            {
                foreach (var problem in problems)
                {
                    Output.Error.MarkupLineInterpolated($"  [bold]{Describe(field, definition)}[/]: {problem}");
                }
            }
            return null;
        }
        return CampaignValidator.Normalize(definition!);
    }

    // A converter's own message (a bad price) comes without the place in the file; the exception still knows it.
    private static string WithLocation(JsonException ex)
        => ex.Path is null || ex.Message.Contains("Path:", StringComparison.Ordinal)
            ? ex.Message
            : $"{ex.Message} Path: {ex.Path} | LineNumber: {ex.LineNumber} | BytePositionInLine: {ex.BytePositionInLine}.";

    // "skus[3]" means little in a file of thousands of SKUs; the skuId is what the operator searches for.
    private static string Describe(string field, CampaignDefinition? definition)
    {
        if (field == "body")
        {
            return "file";
        }
        if (definition?.Skus is { } skus
            && field.StartsWith("skus[", StringComparison.Ordinal)
            && int.TryParse(field.AsSpan(5, field.Length - 6), out var index)
            && index < skus.Count)
        {
            return $"{field} (skuId {skus[index].SkuId})";
        }
        return field;
    }
}
