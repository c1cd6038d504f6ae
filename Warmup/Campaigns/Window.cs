using System.Globalization;
using FlashSale.Engine.Campaigns;

namespace FlashSale.Warmup.Campaigns;

internal static class Window
{
    public static string Format(CampaignDefinition campaign)
        => string.Create(CultureInfo.InvariantCulture,
            $"on sale {Instant(campaign.StartsAt)} to {Instant(campaign.EndsAt)}, payment window {Duration(campaign.PaymentWindowSeconds)}");

    private static string Instant(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static string Duration(int seconds) => seconds switch
    {
        < 60 => $"{seconds} s",
        _ when seconds % 3600 == 0 => string.Create(CultureInfo.InvariantCulture, $"{seconds / 3600} h ({seconds} s)"),
        _ when seconds % 60 == 0 => string.Create(CultureInfo.InvariantCulture, $"{seconds / 60} min ({seconds} s)"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{seconds} s"),
    };
}
