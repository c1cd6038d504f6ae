using System.Text.Json;
using System.Text.Json.Serialization;

namespace FlashSale.Engine.Kafka;

/// <summary>
/// A reservation decided in Redis, on its way to MySQL: the outbox stream entry, then the Kafka
/// message. Versioned: a consumer reads every version it knows and refuses newer ones loudly.
/// Order numbers travel as strings so that consumers in languages with 53-bit numbers stay exact.
/// </summary>
public sealed record ReservationEvent(
    int Version,
    [property: JsonNumberHandling(JsonNumberHandling.WriteAsString | JsonNumberHandling.AllowReadingFromString)] long OrderNo,
    long UserId,
    string CampaignId,
    long SkuId,
    int Quantity,
    long AmountMinor,
    long CreatedAtMs,
    long PaymentDeadlineMs,
    string IdempotencyKey)
{
    public const int CurrentVersion = 1;

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, PipelineJson.Default.ReservationEvent);

    public static ReservationEvent FromJson(ReadOnlySpan<byte> json)
    {
        var value = JsonSerializer.Deserialize(json, PipelineJson.Default.ReservationEvent)
            ?? throw new JsonException("Empty reservation event.");
        if (value.Version is < 1 or > CurrentVersion)
        {
            throw new JsonException($"Reservation event version {value.Version} is not supported by this build (knows 1..{CurrentVersion}).");
        }
        return value;
    }
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(ReservationEvent))]
internal sealed partial class PipelineJson : JsonSerializerContext;
