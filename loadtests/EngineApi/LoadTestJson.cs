using System.Text.Json;
using System.Text.Json.Serialization;
using FlashSale.Contracts;

namespace FlashSale.LoadTests.EngineApi;

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(CampaignBody))]
[JsonSerializable(typeof(CampaignRateLimitsBody))]
[JsonSerializable(typeof(SkuStockView))]
[JsonSerializable(typeof(QueueTicketResponse))]
[JsonSerializable(typeof(QueueStatusResponse))]
[JsonSerializable(typeof(OrderResponse))]
[JsonSerializable(typeof(OrderListResponse))]
[JsonSerializable(typeof(SkuLedgerView))]
[JsonSerializable(typeof(CouponLedgerView))]
[JsonSerializable(typeof(IReadOnlyList<PaymentAdminView>))]
internal sealed partial class LoadTestJson : JsonSerializerContext;
