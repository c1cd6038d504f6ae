using System.Globalization;
using StackExchange.Redis;

namespace FlashSale.Engine.Redis;

/// <summary>
/// Every Redis key, hash field and channel the engine uses outside one SKU (see <see cref="SkuKeys"/> for a
/// SKU's own), defined once. docs/architecture.md describes the keyspace.
/// </summary>
public static class RedisKeyspace
{
    /// <summary>
    /// Set of <c>campaignId:skuId</c> whose outbox streams the relay drains. Deliberately outside any
    /// SKU's hash tag: it is written by warm-up next to, not inside, the SKU's scripts.
    /// </summary>
    public static readonly RedisKey LiveSkus = "fs:live-skus";

    /// <summary>The SKUs in <see cref="LiveSkus"/>; a member that does not parse is left out.</summary>
    public static Task<List<SkuKeys>> LiveSkusAsync(IDatabaseAsync db) => SkusAsync(db, LiveSkus);

    /// <summary>The SKUs of a set of <c>campaignId:skuId</c> members (<see cref="LiveSkus"/>, <see cref="QueueSkus"/>); a member that does not parse is left out.</summary>
    public static async Task<List<SkuKeys>> SkusAsync(IDatabaseAsync db, RedisKey set)
    {
        var skus = new List<SkuKeys>();
        foreach (var member in await db.SetMembersAsync(set))
        {
            if (SkuKeys.TryParseMember(member.ToString(), out var sku))
            {
                skus.Add(sku);
            }
        }
        return skus;
    }

    /// <summary>
    /// Set of <c>campaignId:skuId</c> of the SKUs warmed in queue mode (a waiting room), which the admitting loop walks.
    /// Outside any hash tag, like <see cref="LiveSkus"/>: written beside the SKU's scripts, never inside them.
    /// </summary>
    public static readonly RedisKey QueueSkus = "fs:queue-skus";

    /// <summary>String: the Ingress that holds it runs the waiting rooms' admitting loop (SET NX PX).</summary>
    public static readonly RedisKey AdmissionLease = "fs:admission:lease";

    /// <summary>String: the Persister that holds it runs the reconciler's round (SET NX PX).</summary>
    public static readonly RedisKey ReconcilerLease = "fs:reconciler:lease";

    /// <summary>
    /// String: the identity (<c>run_id/master_replid</c>) of this Redis whose live SKUs have all been fenced
    /// because it was not the identity recorded as trusted. It lives in the Redis it describes: a restart or a
    /// failover changes the identity, so a marker that came back with old data never matches the new one.
    /// </summary>
    public static readonly RedisKey FencedIdentity = "fs:fenced-identity";

    /// <summary>
    /// Hash: the whole deployment's live counts of one Unix second, for the operator console: <c>o:&lt;outcome&gt;</c> reservations
    /// by outcome, <c>l:&lt;bucket&gt;</c> reservation latencies by bucket (<c>LatencyBuckets</c>), <c>n</c> the Ingress processes that
    /// added to it. Each Ingress adds its own once a second (live-add.lua); the key expires after a minute or two.
    /// </summary>
    public static RedisKey LiveSecond(long unixSecond) => "fs:live:" + unixSecond.ToString(CultureInfo.InvariantCulture);

    /// <summary>String (JSON): the reconciler's last round as its leaseholder saw it (<c>ReconcilerReport</c>), for the console.</summary>
    public static readonly RedisKey ReconcilerReport = "fs:reconciler:report";

    public const string StockReturnedChannelName = "fs:stock-returned";

    /// <summary>
    /// Pub/sub: scripts that give stock back (a release, a forced reload, a restock) publish the SKU's
    /// <see cref="SkuKeys.Member"/>, so every Ingress drops a sold-out answer it kept in memory.
    /// </summary>
    public static readonly RedisChannel StockReturned = RedisChannel.Literal(StockReturnedChannelName);
}

/// <summary>The fields of a SKU's meta hash, as the scripts write them.</summary>
public static class MetaFields
{
    public const string Total = "total";
    public const string Available = "available";
    public const string Starts = "starts";
    public const string Ends = "ends";
    public const string Limit = "limit";
    public const string Price = "price";
    public const string Window = "window";
    public const string Generation = "gen";

    /// <summary>The SKU's decision sequence: advanced by every decision that changes its ledger, carried in every event.</summary>
    public const string Sequence = "seq";

    /// <summary>
    /// When the SKU's decision epoch began (Redis ms): its first load, moved on by every recovery. Callers remember
    /// (epoch, sequence); a Redis at an older epoch than a caller saw, or behind within the same one, is fenced.
    /// </summary>
    public const string Epoch = "epoch";

    /// <summary>Present (with a reason) while the SKU is fenced: nothing is decided until recovery removes it.</summary>
    public const string Fenced = "fenced";

    /// <summary>
    /// Units the SKU's ledger holds in state R (reserved, unpaid), kept by every script that writes the ledger
    /// (prelude.lua's <c>count_state</c>), so that stock checks never walk the ledger.
    /// </summary>
    public const string Reserved = "reserved";

    /// <summary>
    /// How many hashes the SKU's ledger is split into (<see cref="LedgerLayout"/>): set by the first load and kept for the
    /// SKU's life; absent for a SKU whose ledger an older engine wrote as one hash.
    /// </summary>
    public const string LedgerShards = "shards";

    /// <summary>Units the SKU's ledger holds in state P (paid), kept like <see cref="Reserved"/>.</summary>
    public const string Sold = "sold";

    /// <summary>
    /// Present once <see cref="Reserved"/> and <see cref="Sold"/> are exact: set by the first load (empty ledger) or by
    /// count.lua for a SKU loaded before the counts existed. Without it the two fields are not to be trusted.
    /// </summary>
    public const string Counted = "counted";

    /// <summary>
    /// Only in a SKU split into stock buckets (B &gt; 1), in every bucket's meta: how many buckets the SKU has. Written by
    /// warm-up before the first bucket's stock, so that an Ingress which finds the SKU live also finds how to route it.
    /// In a bucket, <see cref="Total"/> is that bucket's share of the stock (moved by transfers), not the SKU's.
    /// </summary>
    public const string Buckets = "buckets";

    /// <summary>Only in a SKU split into buckets, beside <see cref="Buckets"/>: the SKU's whole stock, the sum the buckets' totals share.</summary>
    public const string SkuTotal = "sku_total";
}

/// <summary>
/// The Redis keys of one campaign SKU, or of one stock bucket of a SKU split into buckets (campaign definition
/// <c>"buckets": B</c>). They all carry the hash tag <c>{campaign:sku}</c> — bucket 0, and every SKU that is not split —
/// or <c>{campaign:sku:b}</c> for bucket b ≥ 1, so that one Lua script may touch them together, also on a Redis Cluster:
/// one slot per SKU, or per bucket. A bucket is a SKU of its own to every script (stock, ledger, buyers' counts,
/// idempotency keys, outbox, decision sequence, fence); <see cref="Buckets"/> routes a buyer to theirs.
/// </summary>
public readonly record struct SkuKeys(string CampaignId, long SkuId, int Bucket = 0)
{
    public string Tag => $"{{{Member}}}";

    /// <summary>Hash: <see cref="MetaFields"/> — total, available, starts, ends, limit, price (minor units), window (s), gen.</summary>
    public RedisKey Meta => $"fs:{Tag}:meta";

    /// <summary>
    /// Hash: userId → <see cref="BuyerRecord"/>: the units the buyer's live orders hold (the per-user limit) and, for their
    /// first <see cref="BuyerRecord.Folded"/> orders, its Idempotency-Key and order number.
    /// </summary>
    public RedisKey Users => $"fs:{Tag}:users";

    /// <summary>Hash: "userId:idempotencyKey" → order number, for a buyer's keys beyond those their <see cref="Users"/> field folds.</summary>
    public RedisKey Idempotency => $"fs:{Tag}:idem";

    /// <summary>
    /// Hash: order number → <see cref="LedgerRecord"/>, for a SKU loaded by an older engine; otherwise the base of the
    /// ledger's shards (<see cref="LedgerShard"/>, <see cref="LedgerLayout"/>).
    /// </summary>
    public RedisKey Ledger => $"fs:{Tag}:ledger";

    /// <summary>Hash: order number → <see cref="LedgerRecord"/> of the orders of one ledger shard (<see cref="LedgerLayout.ShardOf"/>).</summary>
    public RedisKey LedgerShard(long shard) => $"fs:{Tag}:ledger:{shard.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Stream: reservation events (<see cref="OutboxEntry"/>) waiting to be relayed to Kafka.</summary>
    public RedisKey Outbox => $"fs:{Tag}:outbox";

    /// <summary>
    /// Hash: order number → its outbox entry id, while its event is not yet confirmed durable in Kafka
    /// (removed with the entry once it is).
    /// </summary>
    public RedisKey Pending => $"fs:{Tag}:pending";

    /// <summary>Hash: order number → when the reconciler last put its lost event back on the outbox (ms).</summary>
    public RedisKey Republished => $"fs:{Tag}:republished";

    /// <summary>
    /// Hash: the SKU's waiting room (<see cref="QueueFields"/>): <c>joined</c> (tickets handed out, the last ticket's
    /// sequence), <c>admitted</c> (tickets up to this sequence were admitted), <c>lapsed</c> (tickets up to this one no
    /// longer hold a valid admission: expired, or withdrawn when the SKU sold out).
    /// </summary>
    public RedisKey Queue => $"fs:{Tag}:queue";

    /// <summary>Hash: userId → the sequence of the buyer's ticket.</summary>
    public RedisKey QueueTickets => $"fs:{Tag}:queue:tickets";

    /// <summary>
    /// List: the admission waves whose tokens may still be valid, oldest first, each <c>lastSequence:admittedAtMs</c>
    /// (Redis time); a wave leaves it, raising <c>lapsed</c>, once its tokens expired.
    /// </summary>
    public RedisKey QueueWaves => $"fs:{Tag}:queue:waves";

    /// <summary>Sorted set: sequences (member and score) of admitted tickets whose token made an order, above <c>lapsed</c>.</summary>
    public RedisKey QueueUsed => $"fs:{Tag}:queue:used";

    /// <summary>
    /// Hash: transfer id → what a stock transfer did in this bucket (transfer-out.lua and transfer-in.lua), kept for the
    /// campaign's life so that a step sent again is answered, never done twice.
    /// </summary>
    public RedisKey Transfers => $"fs:{Tag}:transfers";

    /// <summary>Hash: transfer id → a transfer this bucket gave units to and has not yet seen finished (or undone).</summary>
    public RedisKey TransfersOpen => $"fs:{Tag}:transfers:open";

    /// <summary>
    /// <c>campaignId:skuId</c>, and <c>campaignId:skuId:bucket</c> for a bucket b ≥ 1: the SKU (or bucket) in
    /// <see cref="RedisKeyspace.LiveSkus"/>, whose outbox the relays poll.
    /// </summary>
    public string Member => Bucket == 0 ? SkuMember : $"{SkuMember}:{Bucket.ToString(CultureInfo.InvariantCulture)}";

    /// <summary><c>campaignId:skuId</c> whatever the bucket: the SKU as the stock channel and the sold-out cache know it.</summary>
    public string SkuMember => $"{CampaignId}:{SkuId.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>The SKU's bucket 0, whose keys are the SKU's own when it is not split.</summary>
    public SkuKeys Home => this with { Bucket = 0 };

    /// <summary>The keys of bucket <paramref name="bucket"/> of the same SKU.</summary>
    public SkuKeys InBucket(int bucket) => this with { Bucket = bucket };

    /// <summary>Every bucket of the SKU, 0 first.</summary>
    public SkuKeys[] AllBuckets(int buckets)
    {
        var all = new SkuKeys[Math.Max(1, buckets)];
        for (var b = 0; b < all.Length; b++)
        {
            all[b] = InBucket(b);
        }
        return all;
    }

    /// <summary>Reads <see cref="Member"/>: <c>campaignId:skuId</c> or <c>campaignId:skuId:bucket</c> (a campaign id has no colon).</summary>
    public static bool TryParseMember(string member, out SkuKeys keys)
    {
        keys = default;
        var colon = member.IndexOf(':');
        if (colon <= 0)
        {
            return false;
        }
        var rest = member.AsSpan(colon + 1);
        var bucket = 0;
        var second = rest.IndexOf(':');
        if (second >= 0)
        {
            if (!int.TryParse(rest[(second + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out bucket) || bucket <= 0)
            {
                return false;
            }
            rest = rest[..second];
        }
        if (!long.TryParse(rest, NumberStyles.None, CultureInfo.InvariantCulture, out var skuId))
        {
            return false;
        }
        keys = new SkuKeys(member[..colon], skuId, bucket);
        return true;
    }

    /// <summary>Every key of the SKU but its ledger's shards (<see cref="LedgerLayout.AllKeysAsync"/> adds them), for tests.</summary>
    public RedisKey[] All() => [Meta, Users, Idempotency, Ledger, Outbox, Pending, Republished, Queue, QueueTickets, QueueWaves, QueueUsed, Transfers, TransfersOpen];
}

/// <summary>The fields of a SKU's waiting-room hash (<see cref="SkuKeys.Queue"/>).</summary>
public static class QueueFields
{
    public const string Joined = "joined";
    public const string Admitted = "admitted";
    public const string Lapsed = "lapsed";
}
