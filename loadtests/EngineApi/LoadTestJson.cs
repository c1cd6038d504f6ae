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

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(CreateCampaignBody))]
[JsonSerializable(typeof(SkuStockView))]
internal sealed partial class LoadTestJson : JsonSerializerContext;
