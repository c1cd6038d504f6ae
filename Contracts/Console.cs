namespace FlashSale.Contracts;

/// <summary>One campaign of the admin list: its window and how many SKUs it has (the SKUs themselves: <c>GET /admin/campaigns/{id}</c>).</summary>
public sealed record CampaignSummaryView(string CampaignId, DateTime StartsAt, DateTime EndsAt, int PaymentWindowSeconds, int SkuCount);

/// <summary>One SKU's reconciliation through the admin API: the ledger before, the repairs made by kind, the ledger after.</summary>
public sealed record SkuReconcileView(long SkuId, SkuLedgerView Before, IReadOnlyDictionary<string, int> Repairs, SkuLedgerView After);

/// <summary>
/// What <c>warmup reconcile</c> prints, as JSON: every SKU's ledger (with <c>repair</c>, before and after the repairs) and
/// the units still drifting over the campaign.
/// </summary>
public sealed record ReconcileResponse(
    string CampaignId,
    bool Repaired,
    long Drift,
    IReadOnlyList<SkuReconcileView> Skus,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    IReadOnlyList<CouponReconcileView>? Coupons = null);

/// <summary>
/// One update of the operator console's live stream (<see cref="ApiRoutes.AdminLive"/>), for the whole deployment: reservations
/// per second by outcome in <see cref="Second"/> (summed over every Ingress that answered any), the reservation latency of the
/// last <see cref="LatencyWindowSeconds"/> seconds, the pipeline's backlog, the reconciler's last findings, and every live SKU.
/// </summary>
public sealed record LiveUpdate(
    DateTime At,
    long Second,
    IReadOnlyDictionary<string, long> Outcomes,
    int Reporting,
    int LatencyWindowSeconds,
    long LatencySamples,
    double? P50Ms,
    double? P99Ms,
    long OutboxBacklog,
    long? KafkaLag,
    LiveReconcilerView? Reconciler,
    int Fenced,
    bool Truncated,
    string? Error,
    IReadOnlyList<LiveCampaignView> Campaigns);

/// <summary>A campaign of the live view and its SKUs as Redis holds them now.</summary>
public sealed record LiveCampaignView(string CampaignId, DateTime StartsAt, DateTime EndsAt, IReadOnlyList<LiveSkuView> Skus);

/// <summary>
/// One SKU from its meta hash (one HMGET) and its outbox length: <c>reserved</c> units are held by unpaid orders, <c>sold</c> by
/// paid ones; <c>drift</c> is the reconciler's at its last round (null: it found none for this SKU).
/// </summary>
public sealed record LiveSkuView(long SkuId, int Total, int Available, long Reserved, long Sold, SkuState State, long Outbox, long? Drift);

/// <summary>The reconciler's last round as its leaseholder recorded it: when, over how many SKUs, the drift left, and the first findings.</summary>
public sealed record LiveReconcilerView(DateTime At, int Skus, long Drift, IReadOnlyList<LiveFindingView> Findings);

public sealed record LiveFindingView(string CampaignId, long SkuId, string Kind, string? OrderNo, int Units);
