using System.ComponentModel.DataAnnotations;

namespace FlashSale.Engine.Campaigns;

/// <summary>Limits on campaign definitions that a deployment may set (section <c>Campaigns</c>).</summary>
public sealed class CampaignOptions
{
    public const string Section = "Campaigns";

    /// <summary>
    /// The shortest payment window a campaign may have. 30 s keeps a real buyer able to pay; tests lower it
    /// so that a payment-window timeout takes seconds instead of half a minute.
    /// </summary>
    [Range(1, CampaignValidator.MaxPaymentWindowSeconds)]
    public int MinPaymentWindowSeconds { get; set; } = CampaignValidator.MinPaymentWindowSeconds;
}
