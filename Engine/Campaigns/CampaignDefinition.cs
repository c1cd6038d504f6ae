using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization;

namespace FlashSale.Engine.Campaigns;

/// <summary>
/// A flash-sale campaign as an operator defines it: a time window, the SKUs on sale, optionally rate limits of its own
/// (null: the deployment's), and how buyers are admitted to them (<see cref="AdmissionSettings"/>; null or open: anyone
/// may reserve).
/// </summary>
public sealed record CampaignDefinition(
    string CampaignId,
    DateTimeOffset StartsAt,
    DateTimeOffset EndsAt,
    int PaymentWindowSeconds,
    IReadOnlyList<CampaignSku> Skus,
    CampaignRateLimits? RateLimits = null,
    AdmissionSettings? Admission = null,
    IReadOnlyList<CampaignCoupon>? Coupons = null)
{
    /// <summary>The campaign's coupon pools (none when the definition names none).</summary>
    [JsonIgnore]
    public IReadOnlyList<CampaignCoupon> CouponPools => Coupons ?? [];

    /// <summary>The admission in force: <see cref="AdmissionSettings.Open"/> when the definition names none.</summary>
    [JsonIgnore]
    public AdmissionSettings EffectiveAdmission => Admission ?? AdmissionSettings.Open;

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
            // Only a SKU that is split adds to the digest, so a definition stored before buckets existed keeps its fingerprint.
            if (sku.Buckets > 1)
            {
                text.Append(":buckets=").Append(sku.Buckets);
            }
        }
        // Only when present: a definition without rate limits keeps the fingerprint it had before they existed.
        if (RateLimits is not null)
        {
            text.Append("|rate-limits:").Append(RateLimits.Canonical());
        }
        // Only a waiting room adds to the digest, so an open campaign stored before admission existed keeps its fingerprint
        // and the same definition sent again is still recognised.
        if (EffectiveAdmission.IsQueue)
        {
            text.Append("|admission:queue:").Append(EffectiveAdmission.AdmitFactorMilli)
                .Append(':').Append(EffectiveAdmission.TokenSeconds);
        }
        // Only when present, like the rate limits: a campaign without coupons keeps the fingerprint it had before they existed.
        foreach (var coupon in CouponPools.OrderBy(c => c.CouponId, StringComparer.Ordinal))
        {
            text.Append("|coupon:").Append(coupon.CouponId)
                .Append(':').Append(coupon.Discount.ToString("0.00", CultureInfo.InvariantCulture))
                .Append(':').Append(coupon.MinSpend.ToString("0.00", CultureInfo.InvariantCulture))
                .Append(':').Append(coupon.Quantity)
                .Append(':').Append(coupon.PerUserLimit);
        }
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    public CampaignSku? FindSku(long skuId) => Skus.FirstOrDefault(s => s.SkuId == skuId);

    /// <summary>The pool of <paramref name="couponId"/> (ids are exact), or null.</summary>
    public CampaignCoupon? FindCoupon(string couponId) => CouponPools.FirstOrDefault(c => string.Equals(c.CouponId, couponId, StringComparison.Ordinal));
}

/// <summary>
/// A campaign-wide coupon pool: <see cref="Quantity"/> coupons, each <see cref="Discount"/> off one order whose
/// price × quantity is at least <see cref="MinSpend"/> (and more than the discount: a coupon never makes an order free),
/// at most <see cref="PerUserLimit"/> held or used per buyer at once.
/// </summary>
public sealed record CampaignCoupon(
    string CouponId,
    [property: JsonConverter(typeof(MoneyJsonConverter))] decimal Discount,
    [property: JsonConverter(typeof(MoneyJsonConverter))] decimal MinSpend,
    int Quantity,
    int PerUserLimit)
{
    /// <summary>The discount in minor units, as Redis keeps it.</summary>
    public long DiscountMinor => Money.ToMinor(Discount);

    public long MinSpendMinor => Money.ToMinor(MinSpend);
}

/// <param name="Buckets">
/// Stock buckets the SKU is split into (1-16, 1 when left out: not split): each its own Redis hash tag, so its own cluster
/// slot and core, for a SKU too hot for one (see Engine/Buckets/).
/// </param>
public sealed record CampaignSku(
    long SkuId,
    [property: JsonConverter(typeof(MoneyJsonConverter))] decimal Price,
    int Stock,
    int PerUserLimit,
    int Buckets = 1)
{
    /// <summary>The price in minor units (cents): Redis scripts only do integer arithmetic.</summary>
    public long PriceMinor => Money.ToMinor(Price);
}

/// <summary>
/// How buyers reach a campaign's SKUs. <c>open</c>: anyone with a buyer token may reserve. <c>queue</c>: a waiting room;
/// buyers join a queue per SKU and are admitted in join order, in waves that keep the admitted-but-unused tokens at
/// most <see cref="AdmitFactor"/> × the units still available; a reservation then needs the buyer's admission token,
/// valid for <see cref="TokenSeconds"/>.
/// </summary>
public sealed record AdmissionSettings(string Mode, decimal AdmitFactor = AdmissionSettings.DefaultAdmitFactor, int TokenSeconds = AdmissionSettings.DefaultTokenSeconds)
{
    public const decimal DefaultAdmitFactor = 1.5m;
    public const int DefaultTokenSeconds = 60;

    public static AdmissionSettings Open { get; } = new(AdmissionModes.Open);

    [JsonIgnore]
    public bool IsQueue => Mode == AdmissionModes.Queue;

    /// <summary>The factor in thousandths, as Redis keeps it (scripts do integer arithmetic only).</summary>
    [JsonIgnore]
    public int AdmitFactorMilli => (int)decimal.Round(AdmitFactor * 1000m, MidpointRounding.ToZero);
}
