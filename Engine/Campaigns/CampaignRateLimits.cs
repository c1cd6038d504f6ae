using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace FlashSale.Engine.Campaigns;

/// <summary>
/// A token bucket: <see cref="PermitsPerSecond"/> refilled, up to <see cref="Burst"/> spent at once.
/// <see cref="PermitsPerSecond"/> 0 is a limit switched off (its burst then 0).
/// </summary>
public sealed record TokenBucketLimit(int PermitsPerSecond, int Burst)
{
    public const int MaxPermitsPerSecond = 1_000_000;
    public const int MaxBurst = 1_000_000;

    public static readonly TokenBucketLimit Off = new(0, 0);

    [JsonIgnore]
    public bool IsOff => PermitsPerSecond == 0;

    /// <summary>Why the limit is not valid, or null: a rate of 1-1,000,000 with a burst of 1-1,000,000, or 0 and 0 (off).</summary>
    public string? Problem(string name) => PermitsPerSecond switch
    {
        0 when Burst == 0 => null,
        0 => $"{name}.burst must be 0 (or left out) when {name}.permitsPerSecond is 0 (the limit off).",
        < 0 or > MaxPermitsPerSecond => $"{name}.permitsPerSecond must be between 0 (off) and {MaxPermitsPerSecond}.",
        _ when Burst is < 1 or > MaxBurst => $"{name}.burst must be between 1 and {MaxBurst} when the limit is on.",
        _ => null,
    };

    public override string ToString() => IsOff ? "off" : string.Create(CultureInfo.InvariantCulture, $"{PermitsPerSecond}/s burst {Burst}");
}

/// <summary>
/// A campaign's own rate limits (its definition's optional <c>rateLimits</c>): each member set replaces the deployment's
/// <c>RateLimits:*</c> value for the campaign's reservation requests; a member left out (null) keeps the deployment's.
/// <see cref="Concurrency"/> caps the campaign's reservations in flight at once on one Ingress, inside the Ingress-wide
/// limit: a campaign can lower what a machine takes, never raise it.
/// </summary>
public sealed record CampaignRateLimits(TokenBucketLimit? PerBuyer = null, TokenBucketLimit? PerAddress = null, int? Concurrency = null)
{
    public const int MaxConcurrency = 100_000;

    [JsonIgnore]
    public bool IsEmpty => PerBuyer is null && PerAddress is null && Concurrency is null;

    /// <summary>The errors of the object, keyed like the validator's (<c>rateLimits.perBuyer</c>, ...).</summary>
    public void Validate(Dictionary<string, string[]> errors)
    {
        if (PerBuyer?.Problem("rateLimits.perBuyer") is { } buyer)
        {
            errors["rateLimits.perBuyer"] = [buyer];
        }
        if (PerAddress?.Problem("rateLimits.perAddress") is { } address)
        {
            errors["rateLimits.perAddress"] = [address];
        }
        if (Concurrency is < 1 or > MaxConcurrency)
        {
            errors["rateLimits.concurrency"] = [$"rateLimits.concurrency must be between 1 and {MaxConcurrency} (or left out: the Ingress-wide limit alone)."];
        }
    }

    /// <summary>The stable text the definition's fingerprint includes: the same limits always give the same text.</summary>
    public string Canonical() => new StringBuilder()
        .Append("b=").Append(PerBuyer is null ? "-" : $"{PerBuyer.PermitsPerSecond.ToString(CultureInfo.InvariantCulture)}/{PerBuyer.Burst.ToString(CultureInfo.InvariantCulture)}")
        .Append(";a=").Append(PerAddress is null ? "-" : $"{PerAddress.PermitsPerSecond.ToString(CultureInfo.InvariantCulture)}/{PerAddress.Burst.ToString(CultureInfo.InvariantCulture)}")
        .Append(";c=").Append(Concurrency?.ToString(CultureInfo.InvariantCulture) ?? "-")
        .ToString();

    public string ToJson() => JsonSerializer.Serialize(this, CampaignRateLimitsJson.Default.CampaignRateLimits);

    public static CampaignRateLimits? FromJson(string? json)
        => string.IsNullOrEmpty(json) ? null : JsonSerializer.Deserialize(json, CampaignRateLimitsJson.Default.CampaignRateLimits);
}

/// <summary>How the catalog stores a campaign's rate limits (<c>campaigns.rate_limits</c>).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CampaignRateLimits))]
internal sealed partial class CampaignRateLimitsJson : JsonSerializerContext;
