using System.Globalization;
using StackExchange.Redis;

namespace FlashSale.Engine.Redis;

/// <summary>
/// A buyer's field in a SKU's users hash (<see cref="SkuKeys.Users"/>): the units their live orders hold, then for their
/// first <see cref="Folded"/> orders the Idempotency-Key and order number, <c>count \u0001key\u0002orderNo …</c> (neither
/// control character can occur in a key, which is visible ASCII). One field per buyer carries both the per-buyer limit
/// and idempotency, so a batch reads its buyers with one HMGET and writes them with one HSET. A buyer with more orders
/// has the further keys in <see cref="SkuKeys.Idempotency"/> and a <c>+</c> after the count (<see cref="More"/>), so a
/// field stays small whatever the per-buyer limit. The Lua side is prelude.lua's <c>buyer_decode</c> and its neighbours.
/// </summary>
/// <param name="Orders">The folded keys and their orders only.</param>
/// <param name="More">Further keys of the buyer's are in the idempotency hash.</param>
public readonly record struct BuyerRecord(int Bought, IReadOnlyList<(string Key, long OrderNo)> Orders, bool More = false)
{
    /// <summary>Keys a buyer's field folds before the next ones go to the idempotency hash (prelude.lua's BUYER_FOLDED).</summary>
    public const int Folded = 4;

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
        var more = countText.EndsWith('+');
        if (!int.TryParse(more ? countText[..^1] : countText, NumberStyles.None, CultureInfo.InvariantCulture, out var bought))
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
        return new BuyerRecord(bought, orders, more);
    }

    /// <summary>
    /// Whether the buyer's key made an order of the SKU: one HGET of their field, and an HEXISTS on the idempotency hash
    /// only for a buyer whose field does not fold all their keys.
    /// </summary>
    public static async Task<bool> OwnsAsync(IDatabaseAsync db, SkuKeys sku, long userId, string idempotencyKey)
        => await OwnsAsync(db, sku, userId, idempotencyKey, await db.HashGetAsync(sku.Users, userId));

    /// <summary>The same, for a caller that read the buyer's field already.</summary>
    public static async Task<bool> OwnsAsync(IDatabaseAsync db, SkuKeys sku, long userId, string idempotencyKey, RedisValue field)
    {
        if (field.IsNull)
        {
            return false;
        }
        var text = field.ToString();
        if (text.Contains(string.Concat(KeyMark.ToString(), idempotencyKey, OrderMark.ToString()), StringComparison.Ordinal))
        {
            return true;
        }
        // Keys past the fold are in the idempotency hash; so are all of a field that folds none (a SKU an older engine loaded).
        var count = text.IndexOf(KeyMark, StringComparison.Ordinal);
        return (count < 0 || text[..count].EndsWith('+'))
            && await db.HashExistsAsync(sku.Idempotency, string.Create(CultureInfo.InvariantCulture, $"{userId}:{idempotencyKey}"));
    }

    /// <summary>The order a folded key made, or null.</summary>
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
