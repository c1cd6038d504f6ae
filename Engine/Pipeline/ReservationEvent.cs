using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using StackExchange.Redis;

namespace FlashSale.Engine.Pipeline;

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

    /// <summary>Reads an outbox stream entry as reserve.lua writes it.</summary>
    public static ReservationEvent FromStreamEntry(StreamEntry entry)
    {
        string Field(string name) => entry[name].IsNull
            ? throw new FormatException($"Outbox entry {entry.Id} has no field '{name}'.")
            : entry[name].ToString();
        long Long(string name) => long.Parse(Field(name), CultureInfo.InvariantCulture);

        return new ReservationEvent(
            int.Parse(Field("v"), CultureInfo.InvariantCulture),
            Long("orderNo"),
            Long("userId"),
            Field("campaignId"),
            Long("skuId"),
            int.Parse(Field("quantity"), CultureInfo.InvariantCulture),
            Long("amountMinor"),
            Long("createdAt"),
            Long("deadline"),
            Field("idempotencyKey"));
    }
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(ReservationEvent))]
internal sealed partial class PipelineJson : JsonSerializerContext;
