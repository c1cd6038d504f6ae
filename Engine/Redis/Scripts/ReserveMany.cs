using System.Globalization;
using StackExchange.Redis;

namespace FlashSale.Engine.Redis;

/// <summary>
/// One request's answer in reserve-many.lua's reply: <see cref="ScriptCode.Done"/> (created), <see cref="ScriptCode.Replayed"/>,
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
    string? OutboxId = null,
    CouponUse? Coupon = null)
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

/// <summary>
/// One buyer's request in a batch: the order number is allocated by the caller before the decision (for a couponed
/// request, the one its Try-coupon locked <paramref name="Coupon"/> for).
/// </summary>
public readonly record struct BatchRequest(long UserId, string IdempotencyKey, int Quantity, long OrderNo, CouponUse? Coupon = null);

/// <summary>
/// reserve-many.lua's answer: <see cref="ScriptCode.NotWarmed"/> for the whole batch, or one <see cref="ReserveReply"/>
/// per request in request order. When the batch created orders, <see cref="OutboxId"/> is their one outbox entry and
/// <see cref="Batch"/> the Kafka record's value it holds; <see cref="CreatedOrders"/> their order numbers, decided at
/// <see cref="DecidedAtMs"/> (Redis's clock; 0 when nothing needed the clock).
/// </summary>
public sealed record ReserveManyReply(ScriptCode Code, ReserveReply[] Replies, string? OutboxId, byte[]? Batch, long[] CreatedOrders, long DecidedAtMs)
{
    public static readonly ReserveManyReply NotWarmed = new(ScriptCode.NotWarmed, [], null, null, [], 0);
}

public sealed partial class SkuScripts
{
    private static readonly RedisScript ReserveMany = RedisScript.Load("reserve-many.lua");

    private const int Header = 10;

    /// <summary>The script's keys in the order it reads them; callers may build them once per SKU.</summary>
    public static RedisKey[] ReserveKeys(SkuKeys sku) => [sku.Meta, sku.Users, sku.Ledger, sku.Outbox, sku.Pending, CouponKeyspace.CouponsOf(sku), sku.Idempotency];

    private const int PerRequest = 5;

    /// <summary>The reply's codes string holds each request's code as this plus the code (reserve-many.lua).</summary>
    private const int CodeByte = 64;

    /// <summary>
    /// Decides <paramref name="requests"/> in one script call, with the outcomes they would get one after another;
    /// <paramref name="seen"/> is the furthest decision position of the SKU the caller has seen (see reserve-many.lua).
    /// </summary>
    public async Task<ReserveManyReply> ReserveManyAsync(
        IDatabaseAsync db, RedisKey[] reserveKeys, SkuKeys sku, IReadOnlyList<BatchRequest> requests, DecisionPosition seen)
    {
        var values = new RedisValue[4 + requests.Count * PerRequest];
        values[0] = sku.CampaignId;
        values[1] = sku.SkuId;
        values[2] = seen.Sequence;
        values[3] = seen.Epoch;
        for (var i = 0; i < requests.Count; i++)
        {
            var request = requests[i];
            var at = 4 + i * PerRequest;
            values[at] = request.UserId;
            values[at + 1] = request.IdempotencyKey;
            values[at + 2] = request.Quantity;
            values[at + 3] = request.OrderNo;
            values[at + 4] = request.Coupon?.ToString() ?? "";
        }
        var reply = (RedisResult[])(await ReserveMany.EvaluateAsync(db, metrics, reserveKeys, values))!;
        if (Code(reply) == ScriptCode.NotWarmed)
        {
            return ReserveManyReply.NotWarmed;
        }
        var codes = reply.Length > Header ? (byte[]?)reply[Header] : null;
        if (Code(reply) != ScriptCode.Done || codes is null || codes.Length != requests.Count)
        {
            throw Unexpected(ReserveMany, Code(reply));
        }
        var epoch = (long)reply[1];
        var after = new DecisionPosition(epoch, (long)reply[2]);
        var available = (long)reply[3];
        var generation = reply[4].IsNull ? null : (string?)reply[4];
        var (price, windowMs, now) = ((long)reply[5], (long)reply[6] * 1000, (long)reply[7]);
        var outboxId = Text(reply[8]);
        var replies = new ReserveReply[requests.Count];
        // The created orders took the sequence numbers up to the batch's, in request order.
        var sequence = after.Sequence - codes.Count(c => c == CodeByte + (int)ScriptCode.Done);
        var created = new List<long>(requests.Count);
        var extra = Header + 1;
        for (var i = 0; i < requests.Count; i++)
        {
            var request = requests[i];
            var code = (ScriptCode)(codes[i] - CodeByte);
            switch (code)
            {
                case ScriptCode.Done:
                    replies[i] = new(ScriptCode.Done, request.OrderNo,
                        new LedgerRecord(request.UserId, request.Quantity, price * request.Quantity - (request.Coupon?.DiscountMinor ?? 0), now, now + windowMs,
                            LedgerRecord.Reserved),
                        available, generation, new(epoch, ++sequence), outboxId, request.Coupon);
                    created.Add(request.OrderNo);
                    break;
                case ScriptCode.Replayed:
                    replies[i] = new(ScriptCode.Replayed, OrderNo(reply[extra]), LedgerRecord.Parse((string)reply[extra + 1]!),
                        Position: after, OutboxId: Text(reply[extra + 2]), Coupon: CouponUse.Parse((string?)reply[extra + 3]));
                    extra += 4;
                    break;
                case ScriptCode.KeyReused:
                    replies[i] = new(ScriptCode.KeyReused, OrderNo(reply[extra]));
                    extra += 1;
                    break;
                case ScriptCode.CouponUnavailable or ScriptCode.NotStarted or ScriptCode.Ended or ScriptCode.PurchaseLimit:
                    replies[i] = new(code);
                    break;
                case ScriptCode.SoldOut:
                    replies[i] = new(ScriptCode.SoldOut, AvailableAfter: available, Generation: generation, Position: after);
                    break;
                case ScriptCode.Fenced:
                    replies[i] = new(ScriptCode.Fenced, Position: after);
                    break;
                default:
                    throw Unexpected(ReserveMany, code);
            }
        }
        if (extra != reply.Length)
        {
            throw Unexpected(ReserveMany, ScriptCode.Done);
        }
        return new ReserveManyReply(ScriptCode.Done, replies, outboxId, outboxId is null ? null : (byte[])reply[9]!, [.. created], now);
    }

    private static long OrderNo(RedisResult value) => long.Parse((string)value!, CultureInfo.InvariantCulture);

    /// <summary>A string slot the script fills with 0 when it has nothing to say.</summary>
    private static string? Text(RedisResult value) => value.Resp2Type == ResultType.Integer ? null : (string?)value;
}
