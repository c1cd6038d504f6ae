using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization;

namespace FlashSale.Engine.Campaigns;

/// <summary>
/// A flash-sale campaign as an operator defines it: a time window and the SKUs on sale, and optionally rate limits of
/// its own (null: the deployment's).
/// </summary>
public sealed record CampaignDefinition(
    string CampaignId,
    DateTimeOffset StartsAt,
    DateTimeOffset EndsAt,
    int PaymentWindowSeconds,
    IReadOnlyList<CampaignSku> Skus,
    CampaignRateLimits? RateLimits = null)
{
    /// <summary>
    /// A stable digest of the definition. Creating a campaign again is idempotent only when
    /// the digests match; the order of SKUs and the spelling of a price do not matter.
    /// </summary>
    public string Fingerprint()
    {
        var text = new StringBuilder()
            .Append(CampaignId).Append('|')
            .Append(StartsAt.ToUnixTimeMilliseconds()).Append('|')
            .Append(EndsAt.ToUnixTimeMilliseconds()).Append('|')
            .Append(PaymentWindowSeconds);
        foreach (var sku in Skus.OrderBy(s => s.SkuId))
        {
            text.Append('|').Append(sku.SkuId)
                .Append(':').Append(sku.Price.ToString("0.00", CultureInfo.InvariantCulture))
                .Append(':').Append(sku.Stock)
                .Append(':').Append(sku.PerUserLimit);
        }
        // Only when present: a definition without rate limits keeps the fingerprint it had before they existed.
        if (RateLimits is not null)
        {
            text.Append("|rate-limits:").Append(RateLimits.Canonical());
        }
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    public CampaignSku? FindSku(long skuId) => Skus.FirstOrDefault(s => s.SkuId == skuId);
}

public sealed record CampaignSku(
    long SkuId,
    [property: JsonConverter(typeof(MoneyJsonConverter))] decimal Price,
    int Stock,
    int PerUserLimit)
{
    /// <summary>The price in minor units (cents): Redis scripts only do integer arithmetic.</summary>
    public long PriceMinor => Money.ToMinor(Price);
}
