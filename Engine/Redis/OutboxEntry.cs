using System.Globalization;
using Confluent.Kafka;
using FlashSale.Engine.Kafka;
using StackExchange.Redis;

namespace FlashSale.Engine.Redis;

/// <summary>An outbox entry ready for Kafka: its record and the orders it carries.</summary>
public sealed record OutboxRecord(Message<string, byte[]> Message, long[] OrderNos);

/// <summary>
/// Reads a SKU outbox stream entry: the C# side of <c>outbox_add</c> in prelude.lua. Version 3 (field <c>v</c>) is a
/// batch: <c>orders</c> (the order numbers, comma-separated) and <c>batch</c>, the Kafka record's value as Lua wrote
/// it (<see cref="ReservationBatch"/>), forwarded without being parsed. Versions 1 and 2, left by an older build,
/// hold one reservation's fields (<c>orderNo, userId, campaignId, skuId, quantity, amountMinor, createdAt, deadline,
/// idempotencyKey</c>, from version 2 <c>seq</c>).
/// </summary>
public static class OutboxEntry
{
    /// <param name="bucket">The stock bucket whose outbox held the entry (0 for a SKU that is not split): its record says so.</param>
    public static OutboxRecord Read(StreamEntry entry, int bucket = 0)
    {
        if (entry["v"] == ReservationBatch.Version)
        {
            var orders = entry["orders"];
            var batch = entry["batch"];
            if (orders.IsNull || batch.IsNull)
            {
                throw new FormatException($"Outbox entry {entry.Id} has no orders or no batch.");
            }
            var orderNos = orders.ToString().Split(',').Select(o => long.TryParse(o, NumberStyles.None, CultureInfo.InvariantCulture, out var orderNo)
                ? orderNo
                : throw new FormatException($"Outbox entry {entry.Id} has a malformed order number.")).ToArray();
            return new OutboxRecord(ReservationRecords.OfBatch(orderNos[0], (byte[])batch!, bucket), orderNos);
        }
        var single = ReadSingle(entry) with { Bucket = bucket };
        return new OutboxRecord(ReservationRecords.OfEvent(single), [single.OrderNo]);
    }

    private static ReservationEvent ReadSingle(StreamEntry entry)
    {
        string Field(string name) => entry[name].IsNull
            ? throw new FormatException($"Outbox entry {entry.Id} has no field '{name}'.")
            : entry[name].ToString();
        long Long(string name) => long.TryParse(Field(name), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new FormatException($"Outbox entry {entry.Id} has a malformed '{name}'.");
        int Int(string name) => int.TryParse(Field(name), NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new FormatException($"Outbox entry {entry.Id} has a malformed '{name}'.");

        return new ReservationEvent(
            Int("v"),
            Long("orderNo"),
            Long("userId"),
            Field("campaignId"),
            Long("skuId"),
            Int("quantity"),
            Long("amountMinor"),
            Long("createdAt"),
            Long("deadline"),
            Field("idempotencyKey"),
            entry["seq"].IsNull ? 0 : Long("seq"));
    }
}
