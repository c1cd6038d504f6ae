namespace FlashSale.Contracts;

/// <summary>
/// The stable <c>type</c> of every RFC 7807 problem the API answers with: <see cref="Base"/> followed by
/// one of the slugs below. Clients branch on the slug, never on the human text.
/// </summary>
public static class ProblemTypes
{
    public const string Base = "https://flashsale.dev/problems/";

    // Reservations
    public const string InvalidIdempotencyKey = "invalid-idempotency-key";
    public const string InvalidQuantity = "invalid-quantity";
    public const string IdempotencyKeyReused = "idempotency-key-reused";
    public const string NotStarted = "not-started";
    public const string Ended = "ended";
    public const string PurchaseLimit = "purchase-limit";
    public const string SoldOut = "sold-out";

    /// <summary>
    /// 409: the reservation named a coupon that cannot be used — unknown, its pool empty, the buyer's limit of it reached,
    /// or the order below its <c>minSpend</c>: nothing was held, neither a unit nor a coupon.
    /// </summary>
    public const string CouponUnavailable = "coupon-unavailable";

    /// <summary>
    /// A waiting-room SKU refused a reservation without a valid <see cref="ApiHeaders.AdmissionToken"/> (missing, malformed,
    /// expired, withdrawn at sell-out, or another buyer's): nothing was decided. Join the queue and wait for admission.
    /// </summary>
    public const string AdmissionRequired = "admission-required";

    /// <summary>The SKU is fenced while its stock is rebuilt after Redis lost decisions: nothing was decided; retry.</summary>
    public const string Recovering = "recovering";

    // Admission control
    /// <summary>429: a rate limit (per buyer, per address, or requests in flight) refused the request; nothing was decided.</summary>
    public const string RateLimited = "rate-limited";

    /// <summary>503: the durable pipeline behind Redis is behind (backpressure); nothing was decided; retry after Retry-After.</summary>
    public const string Busy = "busy";

    // Orders
    public const string InvalidCursor = "invalid-cursor";
    public const string OrderNotYetPersisted = "order-not-yet-persisted";
    public const string OrderPaid = "order-paid";

    // Campaign admin
    public const string InvalidCampaign = "invalid-campaign";
    public const string CampaignConflict = "campaign-conflict";
    public const string AlreadyLive = "already-live";

    // Payments
    public const string BodyTooLarge = "body-too-large";
    public const string InvalidSignature = "invalid-signature";
    public const string InvalidCallback = "invalid-callback";
    public const string AmountMismatch = "amount-mismatch";
    public const string InvalidOutcome = "invalid-outcome";

    // Any endpoint
    public const string InvalidBody = "invalid-body";
    public const string InvalidLimit = "invalid-limit";
    public const string NotFound = "not-found";
    public const string Unauthorized = "unauthorized";
    public const string Forbidden = "forbidden";
    public const string MethodNotAllowed = "method-not-allowed";
    public const string UnsupportedMediaType = "unsupported-media-type";

    /// <summary>A backing service did not answer: retry (a reservation with the same Idempotency-Key).</summary>
    public const string Unavailable = "unavailable";

    public static string Uri(string slug) => Base + slug;

    /// <summary>The slug of a problem's <c>type</c>: the part after <see cref="Base"/>, else after the last '/'; null for none.</summary>
    public static string? Slug(string? type)
        => type is null ? null
            : type.StartsWith(Base, StringComparison.Ordinal) ? type[Base.Length..]
            : type[(type.LastIndexOf('/') + 1)..];
}
