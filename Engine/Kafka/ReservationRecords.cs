using System.Globalization;
using System.Text;
using Confluent.Kafka;

namespace FlashSale.Engine.Kafka;

/// <summary>
/// The Kafka records of the reservations topic: a batch (<see cref="ReservationBatch"/>, header
/// <c>event: reservation.batch.v1</c>) or, for an order sent on its own, one <see cref="ReservationEvent"/>
/// (header <c>event: reservation.v1</c>).
/// </summary>
public static class ReservationRecords
{
    private static readonly Header EventHeader = new("event", Encoding.ASCII.GetBytes("reservation.v1"));

    private static readonly byte[] BatchName = Encoding.ASCII.GetBytes(ReservationBatch.EventName);

    private static readonly Header BatchHeader = new("event", BatchName);

    /// <summary>The header naming the stock bucket that decided a record's reservations; absent for bucket 0 (every SKU that is not split).</summary>
    public const string BucketHeader = "bucket";

    /// <summary>The record of one reservation event: keyed by order number, so a re-sent copy lands on the first one's partition.</summary>
    public static Message<string, byte[]> OfEvent(ReservationEvent reservation) => new()
    {
        Key = reservation.OrderNo.ToString(CultureInfo.InvariantCulture),
        Value = reservation.ToJson(),
        Headers = Headers(EventHeader, reservation.Bucket),
    };

    /// <summary>
    /// The record of a batch: keyed by its first order number, so a hot SKU's batches spread over the partitions
    /// (no order needs another's ordering) and a re-sent copy lands on the first one's partition. <paramref name="bucket"/>
    /// is the stock bucket whose outbox held it.
    /// </summary>
    public static Message<string, byte[]> OfBatch(long firstOrderNo, byte[] batch, int bucket = 0) => new()
    {
        Key = firstOrderNo.ToString(CultureInfo.InvariantCulture),
        Value = batch,
        Headers = Headers(BatchHeader, bucket),
    };

    /// <summary>The reservation events a record carries: every order of a batch, or its one event, each with the record's bucket.</summary>
    public static List<ReservationEvent> Read(Message<string, byte[]> message)
    {
        var events = IsBatch(message.Headers) ? ReservationBatch.Parse(message.Value) : [ReservationEvent.FromJson(message.Value)];
        if (BucketOf(message.Headers) is var bucket and > 0)
        {
            for (var i = 0; i < events.Count; i++)
            {
                events[i] = events[i] with { Bucket = bucket };
            }
        }
        return events;
    }

    private static Headers Headers(Header name, int bucket)
    {
        var headers = new Headers { name };
        if (bucket > 0)
        {
            headers.Add(BucketHeader, Encoding.ASCII.GetBytes(bucket.ToString(CultureInfo.InvariantCulture)));
        }
        return headers;
    }

    private static int BucketOf(Headers? headers)
        => headers is not null && headers.TryGetLastBytes(BucketHeader, out var value)
            && int.TryParse(Encoding.ASCII.GetString(value), NumberStyles.None, CultureInfo.InvariantCulture, out var bucket)
            ? bucket
            : 0;

    private static bool IsBatch(Headers? headers)
        => headers is not null && headers.TryGetLastBytes("event", out var name) && name.AsSpan().SequenceEqual(BatchName);
}
