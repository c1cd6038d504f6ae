using System.Globalization;

namespace FlashSale.Engine.Redis;

/// <summary>
/// One entry of a SKU's Redis ledger: <c>userId|quantity|amountMinor|createdMs|deadlineMs|state</c>,
/// state R (reserved), P (paid) or C (cancelled, units returned). The C# side of the codec whose Lua side
/// is <c>ledger_decode</c>/<c>ledger_encode</c> in prelude.lua.
/// </summary>
public readonly record struct LedgerRecord(long UserId, int Quantity, long AmountMinor, long CreatedMs, long DeadlineMs, char State)
{
    public const char Reserved = 'R';
    public const char Paid = 'P';
    public const char Cancelled = 'C';

    /// <summary>Reserved or paid: the units are the buyer's, not for sale.</summary>
    public bool Holds => State != Cancelled;

    public static LedgerRecord Parse(string record)
    {
        Span<Range> parts = stackalloc Range[7];
        var span = record.AsSpan();
        if (span.Split(parts, '|') != 6
            || !long.TryParse(span[parts[0]], NumberStyles.None, CultureInfo.InvariantCulture, out var user)
            || !int.TryParse(span[parts[1]], NumberStyles.None, CultureInfo.InvariantCulture, out var quantity)
            || !long.TryParse(span[parts[2]], NumberStyles.None, CultureInfo.InvariantCulture, out var amount)
            || !long.TryParse(span[parts[3]], NumberStyles.None, CultureInfo.InvariantCulture, out var created)
            || !long.TryParse(span[parts[4]], NumberStyles.None, CultureInfo.InvariantCulture, out var deadline)
            || span[parts[5]] is not [Reserved or Paid or Cancelled])
        {
            throw new FormatException($"Malformed ledger record '{record}'.");
        }
        return new LedgerRecord(user, quantity, amount, created, deadline, span[parts[5]][0]);
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{UserId}|{Quantity}|{AmountMinor}|{CreatedMs}|{DeadlineMs}|{State}");
}
