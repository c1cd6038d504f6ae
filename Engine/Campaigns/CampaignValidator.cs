using System.Text.RegularExpressions;
using FlashSale.Engine.Buckets;

namespace FlashSale.Engine.Campaigns;

/// <summary>Checks a definition before anything is stored; errors are keyed by the JSON field they concern.</summary>
public static partial class CampaignValidator
{
    public const int MaxSkus = 10_000;
    public const int MaxCoupons = 100;
    public const int MaxStock = 100_000_000;
    public const int MaxPerUserLimit = 1_000;
    public const int MinPaymentWindowSeconds = 30;
    public const int MaxPaymentWindowSeconds = 7 * 24 * 3600;

    // A window outside these is a typo (year 0001, 20260) that would store a campaign nobody can sell or end.
    public static readonly DateTimeOffset EarliestInstant = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);
    public static readonly DateTimeOffset LatestInstant = new(2100, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>A waiting room admits at least as many buyers as there are units (below 1, the last units could wait for ever).</summary>
    public const decimal MinAdmitFactor = 1m;
    public const decimal MaxAdmitFactor = 100m;
    public const int MinTokenSeconds = 5;
    public const int MaxTokenSeconds = 3600;

    /// <summary>A flash sale lasts hours; years leave room for a standing demo or catalog campaign, not for a typo.</summary>
    public const int MaxDurationYears = 5;

    // The id ends up inside Redis hash tags and key names, so braces, colons and spaces are out.
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")]
    private static partial Regex CampaignIdPattern();

    public static bool IsValidCampaignId(string? campaignId) => campaignId is not null && CampaignIdPattern().IsMatch(campaignId);

    /// <summary>A coupon id has the campaign id's form: it ends up in Redis hash tags and key names too.</summary>
    public static bool IsValidCouponId(string? couponId) => IsValidCampaignId(couponId);

    /// <param name="minPaymentWindowSeconds">The deployment's <see cref="CampaignOptions.MinPaymentWindowSeconds"/>.</param>
    public static Dictionary<string, string[]> Validate(CampaignDefinition? definition, int minPaymentWindowSeconds = MinPaymentWindowSeconds)
    {
        var errors = new Dictionary<string, string[]>();
        if (definition is null)
        {
            errors["body"] = ["A campaign definition is required."];
            return errors;
        }
        if (!IsValidCampaignId(definition.CampaignId))
        {
            errors["campaignId"] = ["1-64 characters: letters, digits, '-' or '_', starting with a letter or digit."];
        }
        if (definition.StartsAt == default || definition.EndsAt == default)
        {
            errors["startsAt"] = [$"startsAt and endsAt are required ISO 8601 instants between {EarliestInstant:yyyy-MM-dd} and {LatestInstant:yyyy-MM-dd}, e.g. 2026-06-18T12:00:00Z."];
        }
        else if (definition.StartsAt < EarliestInstant || definition.StartsAt >= LatestInstant
            || definition.EndsAt <= EarliestInstant || definition.EndsAt > LatestInstant)
        {
            var field = definition.StartsAt < EarliestInstant || definition.StartsAt >= LatestInstant ? "startsAt" : "endsAt";
            errors[field] = [$"startsAt and endsAt must lie between {EarliestInstant:yyyy-MM-dd} and {LatestInstant:yyyy-MM-dd} (UTC)."];
        }
        else if (definition.EndsAt <= definition.StartsAt)
        {
            errors["endsAt"] = ["endsAt must be after startsAt."];
        }
        else if (definition.EndsAt > definition.StartsAt.AddYears(MaxDurationYears))
        {
            errors["endsAt"] = [$"A campaign lasts at most {MaxDurationYears} years."];
        }
        if (definition.PaymentWindowSeconds < minPaymentWindowSeconds || definition.PaymentWindowSeconds > MaxPaymentWindowSeconds)
        {
            errors["paymentWindowSeconds"] = [$"Between {minPaymentWindowSeconds} and {MaxPaymentWindowSeconds} seconds."];
        }
        definition.RateLimits?.Validate(errors);
        ValidateAdmission(definition.Admission, errors);
        ValidateCoupons(definition.Coupons, errors);
        if (definition.Skus is null || definition.Skus.Count == 0 || definition.Skus.Count > MaxSkus)
        {
            errors["skus"] = [$"Between 1 and {MaxSkus} SKUs."];
            return errors;
        }
        if (definition.Skus.Select(s => s?.SkuId).Distinct().Count() != definition.Skus.Count)
        {
            errors["skus"] = ["Each skuId may appear once."];
        }
        for (var i = 0; i < definition.Skus.Count; i++)
        {
            var sku = definition.Skus[i];
            if (sku is null)
            {
                errors[$"skus[{i}]"] = ["A SKU object is required."];
                continue;
            }
            var problems = new List<string>();
            if (sku.SkuId <= 0)
            {
                problems.Add("skuId must be a positive integer.");
            }
            if (sku.Price <= 0 || sku.Price > Money.Max || !Money.HasAtMostTwoDecimals(sku.Price))
            {
                problems.Add($"price must be above 0, at most {Money.Format(Money.Max)}, with at most two decimals.");
            }
            if (sku.Stock is < 0 or > MaxStock)
            {
                problems.Add($"stock must be between 0 and {MaxStock}.");
            }
            if (sku.PerUserLimit is < 1 or > MaxPerUserLimit)
            {
                problems.Add($"perUserLimit must be between 1 and {MaxPerUserLimit}.");
            }
            if (sku.Buckets is < 1 or > BucketRouting.MaxBuckets)
            {
                problems.Add($"buckets must be between 1 and {BucketRouting.MaxBuckets}: the stock buckets (Redis slots) the SKU is split into.");
            }
            else if (sku.Buckets > 1 && definition.Admission is { IsQueue: true })
            {
                problems.Add("buckets above 1 cannot be combined with a waiting room (admission mode queue): not supported.");
            }
            if (problems.Count > 0)
            {
                errors[$"skus[{i}]"] = [.. problems];
            }
        }
        return errors;
    }

    private static void ValidateCoupons(IReadOnlyList<CampaignCoupon>? coupons, Dictionary<string, string[]> errors)
    {
        if (coupons is null)
        {
            return;
        }
        if (coupons.Count > MaxCoupons)
        {
            errors["coupons"] = [$"At most {MaxCoupons} coupon pools."];
            return;
        }
        if (coupons.Where(c => c is not null).Select(c => c.CouponId).Distinct(StringComparer.Ordinal).Count() != coupons.Count(c => c is not null))
        {
            errors["coupons"] = ["Each couponId may appear once."];
        }
        for (var i = 0; i < coupons.Count; i++)
        {
            var coupon = coupons[i];
            if (coupon is null)
            {
                errors[$"coupons[{i}]"] = ["A coupon object is required."];
                continue;
            }
            var problems = new List<string>();
            if (!IsValidCouponId(coupon.CouponId))
            {
                problems.Add("couponId is 1-64 characters: letters, digits, '-' or '_', starting with a letter or digit.");
            }
            if (coupon.Discount <= 0 || coupon.Discount > Money.Max || !Money.HasAtMostTwoDecimals(coupon.Discount))
            {
                problems.Add($"discount must be above 0, at most {Money.Format(Money.Max)}, with at most two decimals.");
            }
            if (coupon.MinSpend < 0 || coupon.MinSpend > Money.Max || !Money.HasAtMostTwoDecimals(coupon.MinSpend))
            {
                problems.Add($"minSpend must be between 0 and {Money.Format(Money.Max)}, with at most two decimals.");
            }
            if (coupon.Quantity is < 0 or > MaxStock)
            {
                problems.Add($"quantity must be between 0 and {MaxStock}.");
            }
            if (coupon.PerUserLimit is < 1 or > MaxPerUserLimit)
            {
                problems.Add($"perUserLimit must be between 1 and {MaxPerUserLimit}.");
            }
            if (problems.Count > 0)
            {
                errors[$"coupons[{i}]"] = [.. problems];
            }
        }
    }

    private static void ValidateAdmission(AdmissionSettings? admission, Dictionary<string, string[]> errors)
    {
        if (admission is null)
        {
            return;
        }
        if (admission.Mode is not (AdmissionModes.Open or AdmissionModes.Queue))
        {
            errors["admission.mode"] = [$"mode is \"{AdmissionModes.Open}\" (anyone may reserve) or \"{AdmissionModes.Queue}\" (a waiting room)."];
            return;
        }
        if (admission.AdmitFactor < MinAdmitFactor || admission.AdmitFactor > MaxAdmitFactor || decimal.Round(admission.AdmitFactor, 3) != admission.AdmitFactor)
        {
            errors["admission.admitFactor"] = [$"admitFactor is between {MinAdmitFactor:0.0} and {MaxAdmitFactor:0.0}, with at most three decimals: admitted-but-unused tokens never exceed it times the units still available."];
        }
        if (admission.TokenSeconds is < MinTokenSeconds or > MaxTokenSeconds)
        {
            errors["admission.tokenSeconds"] = [$"tokenSeconds is between {MinTokenSeconds} and {MaxTokenSeconds}: how long an admitted buyer may reserve."];
        }
    }

    /// <summary>
    /// Instants are kept to the millisecond, in UTC, so that a re-sent definition compares equal; an open admission is
    /// stored as no admission at all (its factor and token lifetime mean nothing).
    /// </summary>
    public static CampaignDefinition Normalize(CampaignDefinition definition) => definition with
    {
        StartsAt = TruncateToMilliseconds(definition.StartsAt),
        EndsAt = TruncateToMilliseconds(definition.EndsAt),
        Skus = [.. definition.Skus.OrderBy(s => s.SkuId)],
        // An empty rateLimits object changes nothing, and is stored (and fingerprinted) as none.
        RateLimits = definition.RateLimits is { IsEmpty: true } ? null : definition.RateLimits,
        Admission = definition.Admission is { IsQueue: true } queue ? queue : null,
        // No pools and an empty list are the same definition.
        Coupons = definition.Coupons is { Count: > 0 } coupons ? [.. coupons.OrderBy(c => c.CouponId, StringComparer.Ordinal)] : null,
    };

    private static DateTimeOffset TruncateToMilliseconds(DateTimeOffset value)
        => DateTimeOffset.FromUnixTimeMilliseconds(value.ToUnixTimeMilliseconds());
}
