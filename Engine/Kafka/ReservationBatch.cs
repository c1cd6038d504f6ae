using System.Globalization;
using System.Text;
using System.Text.Json;

namespace FlashSale.Engine.Kafka;

/// <summary>
/// Many reservations of one SKU decided in one script call, carried as one outbox entry and one Kafka record
/// (header <c>event: </c><see cref="EventName"/>), so one delivery report makes the whole batch durable:
/// <c>{"version":3,"campaignId":"…","skuId":1,"orders":[[orderNo,userId,quantity,amountMinor,createdMs,deadlineMs,seq,idempotencyKey],…]}</c>;
/// an order made with a coupon has three more elements, <c>couponId,discountMinor,couponSeq</c> (a build older than coupons
/// cannot read such a record: deploy the Persisters first).
/// Written by Lua (<c>outbox_add</c>/<c>batch_order</c> in prelude.lua) and forwarded as it is; only the Persister
/// reads it. Order numbers are strings, so consumers with 53-bit numbers stay exact. Records of one order
/// (<see cref="ReservationEvent"/>, versions 1 and 2) travel without the header and are still read.
/// </summary>
public static class ReservationBatch
{
    public const string EventName = "reservation.batch.v1";

    public const int Version = 3;

    /// <summary>The reservation events a batch record carries, in order.</summary>
    public static List<ReservationEvent> Parse(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        int? version = null;
        string? campaignId = null;
        long? skuId = null;
        var events = new List<ReservationEvent>();
        Expect(ref reader, JsonTokenType.StartObject);
        while (Read(ref reader) != JsonTokenType.EndObject)
        {
            var property = reader.GetString();
            Read(ref reader);
            switch (property)
            {
                case "version":
                    version = reader.GetInt32();
                    if (version != Version)
                    {
                        throw new JsonException($"Reservation batch version {version} is not supported by this build (knows {Version}).");
                    }
                    break;
                case "campaignId":
                    campaignId = reader.GetString();
                    break;
                case "skuId":
                    skuId = reader.GetInt64();
                    break;
                case "orders":
                    if (campaignId is null || skuId is null || version is null)
                    {
                        throw new JsonException("A reservation batch names its version, campaign and SKU before its orders.");
                    }
                    ReadOrders(ref reader, campaignId, skuId.Value, events);
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }
        if (version is null)
        {
            throw new JsonException("A reservation batch without orders.");
        }
        return events;
    }

    /// <summary>A batch record's value, as prelude.lua writes it; for tools and tests that publish batches themselves.</summary>
    public static byte[] Encode(string campaignId, long skuId, IEnumerable<ReservationEvent> events)
    {
        var json = new StringBuilder(256);
        json.Append(CultureInfo.InvariantCulture, $"{{\"version\":{Version},\"campaignId\":{Quote(campaignId)},\"skuId\":{skuId},\"orders\":[");
        var first = true;
        foreach (var e in events)
        {
            json.Append(first ? "" : ",").Append(CultureInfo.InvariantCulture,
                $"[\"{e.OrderNo}\",{e.UserId},{e.Quantity},{e.AmountMinor},{e.CreatedAtMs},{e.PaymentDeadlineMs},{e.Sequence},{Quote(e.IdempotencyKey)}");
            if (e.CouponId is not null)
            {
                json.Append(CultureInfo.InvariantCulture, $",{Quote(e.CouponId)},{e.DiscountMinor},{e.CouponSequence}");
            }
            json.Append(']');
            first = false;
        }
        return Encoding.UTF8.GetBytes(json.Append("]}").ToString());
    }

    /// <summary>json_string of prelude.lua: the values are visible ASCII, so only the quote and the backslash are escaped.</summary>
    private static string Quote(string value) => "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    private static void ReadOrders(ref Utf8JsonReader reader, string campaignId, long skuId, List<ReservationEvent> events)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new JsonException("A reservation batch's orders are an array.");
        }
        while (Read(ref reader) != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.StartArray)
            {
                throw new JsonException("A reservation batch's order is an array.");
            }
            Expect(ref reader, JsonTokenType.String);
            if (!long.TryParse(reader.ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var orderNo))
            {
                throw new JsonException("A reservation batch's order number is not a number.");
            }
            var userId = Number(ref reader);
            var quantity = Number(ref reader) is var q and >= 1 and <= int.MaxValue
                ? (int)q
                : throw new JsonException("A reservation batch's quantity is out of range.");
            var amountMinor = Number(ref reader);
            var createdMs = Number(ref reader);
            var deadlineMs = Number(ref reader);
            var sequence = Number(ref reader);
            Expect(ref reader, JsonTokenType.String);
            var key = reader.GetString()!;
            string? couponId = null;
            long discountMinor = 0, couponSequence = 0;
            if (Read(ref reader) == JsonTokenType.String)
            {
                couponId = reader.GetString()!;
                discountMinor = Number(ref reader);
                couponSequence = Number(ref reader);
                Expect(ref reader, JsonTokenType.EndArray);
            }
            else if (reader.TokenType != JsonTokenType.EndArray)
            {
                throw new JsonException($"A reservation batch has {reader.TokenType} where EndArray belongs.");
            }
            events.Add(new ReservationEvent(
                ReservationEvent.CurrentVersion, orderNo, userId, campaignId, skuId, quantity, amountMinor, createdMs, deadlineMs, key, sequence,
                couponId, discountMinor, couponSequence));
        }
    }

    private static long Number(ref Utf8JsonReader reader)
    {
        Expect(ref reader, JsonTokenType.Number);
        return reader.GetInt64();
    }

    private static JsonTokenType Read(ref Utf8JsonReader reader)
        => reader.Read() ? reader.TokenType : throw new JsonException("A reservation batch ends too early.");

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType token)
    {
        if (Read(ref reader) != token)
        {
            throw new JsonException($"A reservation batch has {reader.TokenType} where {token} belongs.");
        }
    }
}
