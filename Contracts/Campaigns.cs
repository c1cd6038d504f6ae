using System.Text.Json.Serialization;

namespace FlashSale.Contracts;

[JsonConverter(typeof(JsonStringEnumConverter<SkuState>))]
public enum SkuState
{
    /// <summary>Defined in the catalog, not loaded into Redis: nothing can be reserved.</summary>
    NotWarmed,

    /// <summary>Loaded, the campaign has not started.</summary>
    Scheduled,

    OnSale,
    SoldOut,
    Ended,

    /// <summary>Fenced: Redis may have forgotten decisions, and nothing is sold until recovery has rebuilt the SKU.</summary>
    Recovering,
}

[JsonConverter(typeof(JsonStringEnumConverter<WarmupOutcome>))]
public enum WarmupOutcome
{
    Loaded,
    AlreadyLive,
}

/// <summary>
/// The admin's body: the definition itself. Prices may be JSON strings or numbers. <c>admission</c> is optional
/// (<c>open</c> when omitted); <c>{"mode":"queue","admitFactor":1.5,"tokenSeconds":60}</c> puts every SKU behind a waiting room.
/// </summary>
public sealed record CampaignBody(
    string CampaignId,
    DateTimeOffset StartsAt,
    DateTimeOffset EndsAt,
    int PaymentWindowSeconds,
    IReadOnlyList<CampaignSkuBody> Skus,
    CampaignRateLimitsBody? RateLimits = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] AdmissionBody? Admission = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<CouponBody>? Coupons = null);

/// <summary>
/// A campaign's own rate limits on its reservation endpoint, each replacing the deployment's <c>RateLimits:*</c> for
/// this campaign's requests; a member left out keeps the deployment's. <c>concurrency</c> caps this campaign's
/// reservations in flight at once per Ingress, inside the Ingress-wide limit (a campaign cannot raise what a machine holds).
/// </summary>
public sealed record CampaignRateLimitsBody(RateLimitBody? PerBuyer = null, RateLimitBody? PerAddress = null, int? Concurrency = null);

/// <summary>A token bucket: <c>permitsPerSecond</c> refilled, up to <c>burst</c> at once; <c>permitsPerSecond</c> 0 turns the limit off.</summary>
public sealed record RateLimitBody(int PermitsPerSecond, int Burst = 0);

/// <summary>
/// One SKU of a definition. <c>buckets</c> (1-16, optional: 1) splits a hot SKU's stock over that many Redis slots (on a
/// cluster, several masters); a buyer always lands in the same bucket, and the SKU still sells as one.
/// </summary>
public sealed record CampaignSkuBody(
    long SkuId,
    [property: JsonConverter(typeof(MoneyJsonConverter))] decimal Price,
    int Stock,
    int PerUserLimit,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Buckets = null);

/// <summary>A SKU as the admin reads it back; <c>buckets</c> only for a SKU split into more than one.</summary>
public sealed record CampaignSkuView(
    long SkuId,
    [property: JsonConverter(typeof(MoneyJsonConverter))] decimal Price,
    int Stock,
    int PerUserLimit,
    int Available,
    SkuState State,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Buckets = null);

public sealed record CampaignView(
    string CampaignId,
    DateTime StartsAt,
    DateTime EndsAt,
    int PaymentWindowSeconds,
    IReadOnlyList<CampaignSkuView> Skus,
    AdmissionView Admission,
    CampaignRateLimitsBody? RateLimits = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<CampaignCouponView>? Coupons = null);

public sealed record SkuWarmupView(long SkuId, WarmupOutcome Outcome, int Available);

/// <summary>A coupon pool's warm-up: loaded with its quantity, or already live (its count left as it is).</summary>
public sealed record CouponWarmupView(string CouponId, WarmupOutcome Outcome, int Available);

public sealed record WarmupResponse(
    string CampaignId,
    IReadOnlyList<SkuWarmupView> Skus,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<CouponWarmupView>? Coupons = null);

/// <summary>The public view of one SKU's stock.</summary>
public sealed record SkuStockView(int Total, int Available, SkuState State);

/// <summary>One disagreement the ledger found: its kind (lost-event, unknown-to-redis, ...), the order (null for a SKU-wide one), the units.</summary>
public sealed record DriftFindingView(string Kind, string? OrderNo, int Units);

public sealed record RedisLedgerView(long Available, long Reserved, long Sold);

public sealed record DbLedgerView(long Pending, long Paid, long Cancelled);

/// <summary>
/// One SKU's stock as Redis and MySQL see it, the units still on their way between them, and the drift
/// left once those are counted; <c>findings</c> lists the first <see cref="MaxFindings"/> disagreements.
/// </summary>
public sealed record SkuLedgerView(
    int Total,
    RedisLedgerView Redis,
    DbLedgerView Db,
    long InFlight,
    long Drift,
    DateTime CheckedAt,
    bool Warmed,
    IReadOnlyList<DriftFindingView> Findings)
{
    public const int MaxFindings = 100;
}
