using StackExchange.Redis;

namespace FlashSale.Engine.Redis;

/// <summary>
/// The Redis keys of one campaign SKU. They all carry the hash tag <c>{campaign:sku}</c> so that
/// one Lua script may touch them together, also on a Redis Cluster (one slot per SKU).
/// </summary>
public readonly record struct SkuKeys(string CampaignId, long SkuId)
{
    public string Tag => $"{{{CampaignId}:{SkuId}}}";

    /// <summary>Hash: total, available, starts, ends, limit, price (minor units), window (s), gen.</summary>
    public RedisKey Meta => $"fs:{Tag}:meta";

    /// <summary>Hash: "userId:idempotencyKey" → order number.</summary>
    public RedisKey Idempotency => $"fs:{Tag}:idem";

    /// <summary>Hash: userId → units reserved, for the per-user limit.</summary>
    public RedisKey Users => $"fs:{Tag}:users";

    /// <summary>Hash: order number → "userId|quantity|amountMinor|createdMs|deadlineMs|state".</summary>
    public RedisKey Ledger => $"fs:{Tag}:ledger";

    /// <summary>Stream: reservation events waiting to be relayed to Kafka.</summary>
    public RedisKey Outbox => $"fs:{Tag}:outbox";

    /// <summary>Hash: order number → when the reconciler last put its lost event back on the outbox (ms).</summary>
    public RedisKey Republished => $"fs:{Tag}:republished";

    /// <summary>
    /// Set of <c>campaignId:skuId</c> whose outbox streams the relay drains. Deliberately outside any
    /// SKU's hash tag: it is written by warm-up next to, not inside, the SKU's scripts.
    /// </summary>
    public static readonly RedisKey LiveSkus = "fs:live-skus";

    public string Member => $"{CampaignId}:{SkuId}";

    public static bool TryParseMember(string member, out SkuKeys keys)
    {
        keys = default;
        var colon = member.LastIndexOf(':');
        if (colon <= 0 || !long.TryParse(member.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var skuId))
        {
            return false;
        }
        keys = new SkuKeys(member[..colon], skuId);
        return true;
    }

    /// <summary>The keys of the reservation script, in the order it reads KEYS.</summary>
    public RedisKey[] ReservationKeys() => [Meta, Idempotency, Users, Ledger, Outbox];

    /// <summary>Every key of the SKU, for tests and for tearing a campaign down.</summary>
    public RedisKey[] All() => [Meta, Idempotency, Users, Ledger, Outbox, Republished];
}
