using System.Collections.Concurrent;
using System.Collections.Frozen;

namespace FlashSale.Engine.Reservations;

/// <summary>
/// Lets an Ingress answer <c>sold-out</c> from memory once a SKU has sold out, without a Redis
/// round trip: after sell-out most of a flash sale's traffic is buyers who were too late.
/// <para>
/// An entry holds the buyers who already made an order, taken atomically with the stock, so a
/// buyer replaying their key still reaches Redis and gets their order back (any request of theirs
/// goes to Redis, which knows their keys; everybody else is answered here). Stock
/// that comes back (a cancellation, a forced reload) bumps the SKU's stock generation in Redis:
/// the owner calls <see cref="Forget"/> when told so, and an entry also goes stale after
/// <see cref="Ttl"/>; the next request then asks Redis, which renews the entry if the generation
/// is unchanged or causes a fresh snapshot if not.
/// </para>
/// </summary>
public sealed class SoldOutCache(TimeProvider time)
{
    public static readonly TimeSpan Ttl = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<(string CampaignId, long SkuId), Entry> _entries = new();

    public bool IsSoldOutFor(in ReservationRequest request)
    {
        if (!_entries.TryGetValue((request.CampaignId, request.SkuId), out var entry))
        {
            return false;
        }
        if (time.GetTimestamp() > entry.ValidUntil)
        {
            return false;
        }
        return !entry.Buyers.Contains(request.UserId);
    }

    /// <summary>Redis said sold out at stock generation <paramref name="generation"/>; true when a snapshot is needed.</summary>
    public bool Renew(string campaignId, long skuId, string generation)
    {
        var key = (campaignId, skuId);
        if (_entries.TryGetValue(key, out var entry) && entry.Generation == generation)
        {
            _entries[key] = entry with { ValidUntil = ValidUntil() };
            return false;
        }
        return true;
    }

    public void Store(string campaignId, long skuId, string generation, IEnumerable<long> buyers)
        => _entries[(campaignId, skuId)] = new Entry(generation, buyers.ToFrozenSet(), ValidUntil());

    public void Forget(string campaignId, long skuId) => _entries.TryRemove((campaignId, skuId), out _);

    private long ValidUntil() => time.GetTimestamp() + (long)(Ttl.TotalSeconds * time.TimestampFrequency);

    private sealed record Entry(string Generation, FrozenSet<long> Buyers, long ValidUntil);
}
