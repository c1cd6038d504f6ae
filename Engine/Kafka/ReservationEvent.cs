using System.Text.Json;
using System.Text.Json.Serialization;

namespace FlashSale.Engine.Kafka;

/// <summary>
/// A reservation decided in Redis, on its way to MySQL: the outbox stream entry, then the Kafka
/// message. Versioned: a consumer reads every version it knows and refuses newer ones loudly.
/// Order numbers travel as strings so that consumers in languages with 53-bit numbers stay exact.
/// Version 2 adds <see cref="Sequence"/>, the SKU's decision sequence number in Redis (0 in version 1,
/// and for events rebuilt from a ledger entry), which the Persister keeps as the SKU's high-water mark.
/// An order made with a coupon also carries <see cref="CouponId"/>, the discount taken off its amount and the coupon pool's
/// decision sequence of its lock (members left out for an order without a coupon).
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
    string IdempotencyKey,
    long Sequence = 0,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? CouponId = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] long DiscountMinor = 0,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] long CouponSequence = 0)
{
    public const int CurrentVersion = 2;

    /// <summary>
    /// The stock bucket that decided the reservation (0 for a SKU that is not split). Not part of the JSON: it travels as
    /// the record's <c>bucket</c> header (<see cref="ReservationRecords"/>), for a batch record as for a single event, and
    /// the Persister keeps the high-water mark of decision sequences per bucket (sequences are per bucket).
    /// </summary>
    [JsonIgnore]
    public int Bucket { get; init; }

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
