using System.Globalization;
using StackExchange.Redis;

namespace FlashSale.Engine.Redis;

/// <summary>
/// A buyer's field in a SKU's users hash (<see cref="SkuKeys.Users"/>): the units their live orders hold, then for every
/// order they made its Idempotency-Key and order number, <c>count \u0001key\u0002orderNo \u0001key\u0002orderNo …</c>
/// (neither control character can occur in a key, which is visible ASCII). One field per buyer carries both the
/// per-buyer limit and idempotency, so a batch reads its buyers with one HMGET and writes them with one HSET.
/// The Lua side is prelude.lua's <c>buyer_decode</c>, <c>buyer_order</c> and <c>buyer_add</c>.
/// </summary>
public readonly record struct BuyerRecord(int Bought, IReadOnlyList<(string Key, long OrderNo)> Orders)
{
    private const char KeyMark = '\u0001';
    private const char OrderMark = '\u0002';

    /// <summary>A buyer not seen: nothing bought, no keys.</summary>
    public static readonly BuyerRecord None = new(0, []);

    public static BuyerRecord Parse(RedisValue value)
    {
        if (value.IsNull)
        {
            return None;
        }
        var text = value.ToString();
        var first = text.IndexOf(KeyMark, StringComparison.Ordinal);
        var countText = first < 0 ? text : text[..first];
        if (!int.TryParse(countText, NumberStyles.None, CultureInfo.InvariantCulture, out var bought))
        {
            throw new FormatException($"Malformed buyer record '{text}'.");
        }
        var orders = new List<(string, long)>();
        if (first >= 0)
        {
            foreach (var part in text[(first + 1)..].Split(KeyMark))
            {
                var mark = part.IndexOf(OrderMark, StringComparison.Ordinal);
                if (mark < 0 || !long.TryParse(part.AsSpan(mark + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var orderNo))
                {
                    throw new FormatException($"Malformed buyer record '{text}'.");
                }
                orders.Add((part[..mark], orderNo));
            }
        }
        return new BuyerRecord(bought, orders);
    }

    /// <summary>Whether the buyer's key made an order; a cheap test on the raw field, without parsing it.</summary>
    public static bool Owns(RedisValue value, string idempotencyKey)
        => !value.IsNull && value.ToString().Contains(string.Concat(KeyMark.ToString(), idempotencyKey, OrderMark.ToString()), StringComparison.Ordinal);

    /// <summary>The order the key made, or null.</summary>
    public long? OrderOf(string idempotencyKey)
    {
        foreach (var (key, orderNo) in Orders)
        {
            if (key == idempotencyKey)
            {
                return orderNo;
            }
        }
        return null;
    }
}
