using System.ComponentModel;
using FlashSale.Engine.Campaigns;
using Spectre.Console;
using Spectre.Console.Cli;

namespace FlashSale.Warmup.Campaigns;

/// <summary>The options of the commands that work on one stored campaign.</summary>
internal class CampaignSettings : CommandSettings
{
    [CommandOption("-c|--campaign <ID>", isRequired: true)]
    [Description("The campaign id, as imported.")]
    public string CampaignId { get; init; } = "";

    // Checked here so a typo never reaches Redis key names.
    public override ValidationResult Validate() => CampaignValidator.IsValidCampaignId(CampaignId)
        ? ValidationResult.Success()
        : ValidationResult.Error($"'{CampaignId}' is not a campaign id: 1-64 letters, digits, '-' or '_'.");
}
