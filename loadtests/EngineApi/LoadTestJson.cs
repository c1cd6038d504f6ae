using System.Text.Json;
using System.Text.Json.Serialization;
using FlashSale.Engine.Campaigns;

namespace FlashSale.LoadTests.EngineApi;

/// <summary>The admin API's campaign body. Instants are UTC <see cref="DateTime"/>s so they are written with a Z.</summary>
public sealed record CreateCampaignBody(
    string CampaignId,
    DateTime StartsAt,
    DateTime EndsAt,
    int PaymentWindowSeconds,
    IReadOnlyList<CampaignSku> Skus);

/// <summary>The public SKU view: <c>state</c> stays a string so a new engine state cannot break the harness.</summary>
public sealed record SkuStockView(int Total, int Available, string State);

/// <summary>
/// An order as <c>GET /api/v1/orders/{orderNo}</c> shows it to its buyer. <c>Persisted</c> is false
/// while the order is only in the SKU's Redis ledger, on its way through the outbox, Kafka and the persister.
/// </summary>
public sealed record OrderView(
    string OrderNo,
    string CampaignId,
    long SkuId,
    int Quantity,
    string Amount,
    string Status,
    DateTime PaymentDeadline,
    DateTime CreatedAt,
    bool Persisted);

/// <summary>A page of the buyer's orders, newest first.</summary>
public sealed record OrderListView(IReadOnlyList<OrderView> Items, string? NextCursor);

/// <summary>
/// <c>GET /api/v1/admin/campaigns/{id}/skus/{sku}/ledger</c>: one SKU's stock as Redis and MySQL see it,
/// the reservations still on their way between them, and the drift that is left once those are counted.
/// </summary>
public sealed record LedgerView(
    long Total, LedgerRedisView Redis, LedgerDbView Db, long InFlight, long Drift, DateTime CheckedAt, bool Warmed, IReadOnlyList<LedgerFindingView>? Findings);

/// <summary>One disagreement the ledger found: its kind (lost-event, unknown-to-redis, ...), the order (null for a SKU-wide one), the units.</summary>
public sealed record LedgerFindingView(string Kind, string? OrderNo, int Units);

public sealed record LedgerRedisView(long Available, long Reserved, long Sold);

public sealed record LedgerDbView(long Pending, long Paid, long Cancelled);

/// <summary>A recorded payment callback as <c>GET /api/v1/admin/payments</c> lists it.</summary>
public sealed record PaymentRecordView(string ProviderTxnId, string OrderNo, string Amount, string ProviderStatus, string Outcome, DateTime ReceivedAt);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(CreateCampaignBody))]
[JsonSerializable(typeof(SkuStockView))]
[JsonSerializable(typeof(OrderView))]
[JsonSerializable(typeof(OrderListView))]
[JsonSerializable(typeof(LedgerView))]
[JsonSerializable(typeof(IReadOnlyList<PaymentRecordView>))]
internal sealed partial class LoadTestJson : JsonSerializerContext;
