using System.Globalization;
using StackExchange.Redis;

namespace FlashSale.Engine.Redis;

/// <summary>
/// reserve.lua's answer: <see cref="ScriptCode.Done"/> (created), <see cref="ScriptCode.Replayed"/>,
/// <see cref="ScriptCode.KeyReused"/>, or a refusal (<see cref="ScriptCode.NotWarmed"/>, NotStarted, Ended,
/// PurchaseLimit, SoldOut), or <see cref="ScriptCode.Fenced"/>. <see cref="Record"/> is set for Done and Replayed;
/// <see cref="AvailableAfter"/> and <see cref="Generation"/> (the stock generation) for Done and SoldOut;
/// <see cref="Position"/> (the SKU's decision epoch and sequence: the reservation's own for Done, Redis's current
/// one otherwise) for Done, Replayed, SoldOut and Fenced; <see cref="OutboxId"/> for Done, and for Replayed while
/// the order's event is not yet confirmed durable.
/// </summary>
public readonly record struct ReserveReply(
    ScriptCode Code,
    long OrderNo = 0,
    LedgerRecord Record = default,
    long AvailableAfter = 0,
    string? Generation = null,
    DecisionPosition Position = default,
    string? OutboxId = null)
{
    public long Sequence => Position.Sequence;
}

/// <summary>
/// Where a SKU's decisions stand: its epoch (when it was loaded or last recovered, Redis ms) and its decision
/// sequence within it. Positions order by epoch, then sequence.
/// </summary>
public readonly record struct DecisionPosition(long Epoch, long Sequence) : IComparable<DecisionPosition>
{
    public int CompareTo(DecisionPosition other)
        => Epoch != other.Epoch ? Epoch.CompareTo(other.Epoch) : Sequence.CompareTo(other.Sequence);

    public static bool operator >(DecisionPosition a, DecisionPosition b) => a.CompareTo(b) > 0;

    public static bool operator <(DecisionPosition a, DecisionPosition b) => a.CompareTo(b) < 0;

    public static bool operator >=(DecisionPosition a, DecisionPosition b) => a.CompareTo(b) >= 0;

    public static bool operator <=(DecisionPosition a, DecisionPosition b) => a.CompareTo(b) <= 0;
}

public sealed partial class SkuScripts
{
    private static readonly RedisScript Reserve = RedisScript.Load("reserve.lua");

    /// <summary>The script's keys in the order it reads them; callers may build them once per SKU.</summary>
    public static RedisKey[] ReserveKeys(SkuKeys sku) => [sku.Meta, sku.Idempotency, sku.Users, sku.Ledger, sku.Outbox, sku.Pending];

    public async Task<ReserveReply> ReserveAsync(
        IDatabaseAsync db, RedisKey[] reserveKeys, SkuKeys sku, long userId, string idempotencyKey, int quantity, long orderNo, DecisionPosition seen)
    {
        var reply = (RedisResult[])(await Reserve.EvaluateAsync(db, metrics, reserveKeys,
            [userId, idempotencyKey, quantity, orderNo, sku.CampaignId, sku.SkuId, seen.Sequence, seen.Epoch]))!;
        return Code(reply) switch
        {
            ScriptCode.Done => new(ScriptCode.Done, OrderNo(reply[1]), LedgerRecord.Parse((string)reply[2]!), (long)reply[3], (string?)reply[4],
                new((long)reply[7], (long)reply[5]), (string?)reply[6]),
            ScriptCode.Replayed => new(ScriptCode.Replayed, OrderNo(reply[1]), LedgerRecord.Parse((string)reply[2]!),
                Position: new((long)reply[5], (long)reply[3]), OutboxId: reply[4].IsNull ? null : (string?)reply[4]),
            ScriptCode.KeyReused => new(ScriptCode.KeyReused, OrderNo(reply[1])),
            ScriptCode.SoldOut => new(ScriptCode.SoldOut, AvailableAfter: (long)reply[1], Generation: (string?)reply[2],
                Position: new((long)reply[4], (long)reply[3])),
            ScriptCode.Fenced => new(ScriptCode.Fenced, Position: new((long)reply[2], (long)reply[1])),
            var code and (ScriptCode.NotWarmed or ScriptCode.NotStarted or ScriptCode.Ended or ScriptCode.PurchaseLimit) => new(code),
            var code => throw Unexpected(Reserve, code),
        };
    }

    private static long OrderNo(RedisResult value) => long.Parse((string)value!, CultureInfo.InvariantCulture);
}
