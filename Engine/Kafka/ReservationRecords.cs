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

    /// <summary>The record of one reservation event: keyed by order number, so a re-sent copy lands on the first one's partition.</summary>
    public static Message<string, byte[]> OfEvent(ReservationEvent reservation) => new()
    {
        Key = reservation.OrderNo.ToString(CultureInfo.InvariantCulture),
        Value = reservation.ToJson(),
        Headers = [EventHeader],
    };

    /// <summary>
    /// The record of a batch: keyed by its first order number, so a hot SKU's batches spread over the partitions
    /// (no order needs another's ordering) and a re-sent copy lands on the first one's partition.
    /// </summary>
    public static Message<string, byte[]> OfBatch(long firstOrderNo, byte[] batch) => new()
    {
        Key = firstOrderNo.ToString(CultureInfo.InvariantCulture),
        Value = batch,
        Headers = [BatchHeader],
    };

    /// <summary>The reservation events a record carries: every order of a batch, or its one event.</summary>
    public static List<ReservationEvent> Read(Message<string, byte[]> message)
        => IsBatch(message.Headers) ? ReservationBatch.Parse(message.Value) : [ReservationEvent.FromJson(message.Value)];

    private static bool IsBatch(Headers? headers)
        => headers is not null && headers.TryGetLastBytes("event", out var name) && name.AsSpan().SequenceEqual(BatchName);
}
