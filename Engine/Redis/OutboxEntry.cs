using System.Globalization;
using FlashSale.Engine.Kafka;
using StackExchange.Redis;

namespace FlashSale.Engine.Redis;

/// <summary>
/// Reads a SKU outbox stream entry: the C# side of <c>outbox_add</c> in prelude.lua, which writes the
/// fields <c>v, orderNo, userId, campaignId, skuId, quantity, amountMinor, createdAt, deadline, idempotencyKey</c>
/// and, from version 2, <c>seq</c>.
/// </summary>
public static class OutboxEntry
{
    public const string OrderNoField = "orderNo";

    public static ReservationEvent Read(StreamEntry entry)
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
            Long(OrderNoField),
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
