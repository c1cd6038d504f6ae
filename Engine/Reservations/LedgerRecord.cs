using System.Globalization;
using FlashSale.Engine.Campaigns;

namespace FlashSale.Engine.Reservations;

/// <summary>
/// One entry of a SKU's Redis ledger: <c>userId|quantity|amountMinor|createdMs|deadlineMs|state</c>,
/// state R (reserved), P (paid) or C (cancelled, units returned).
/// </summary>
public readonly record struct LedgerRecord(long UserId, int Quantity, long AmountMinor, long CreatedMs, long DeadlineMs, char State)
{
    public static LedgerRecord Parse(string record)
    {
        Span<Range> parts = stackalloc Range[7];
        var span = record.AsSpan();
        if (span.Split(parts, '|') != 6)
        {
            throw new FormatException($"Malformed ledger record '{record}'.");
        }
        return new LedgerRecord(
            long.Parse(span[parts[0]], CultureInfo.InvariantCulture),
            int.Parse(span[parts[1]], CultureInfo.InvariantCulture),
            long.Parse(span[parts[2]], CultureInfo.InvariantCulture),
            long.Parse(span[parts[3]], CultureInfo.InvariantCulture),
            long.Parse(span[parts[4]], CultureInfo.InvariantCulture),
            span[parts[5]][0]);
    }

    public Reservation ToReservation(long orderNo, string campaignId, long skuId) => new(
        orderNo,
        campaignId,
        skuId,
        UserId,
        Quantity,
        Money.FromMinor(AmountMinor),
        DateTimeOffset.FromUnixTimeMilliseconds(CreatedMs),
        DateTimeOffset.FromUnixTimeMilliseconds(DeadlineMs));
}
