using System.Globalization;
using StackExchange.Redis;

namespace FlashSale.Engine.Redis;

/// <summary>One pool's lock of an order number: <c>userId|skuId|discountMinor|createdMs|state</c>; the C# side of <c>lock_decode</c>.</summary>
public readonly record struct CouponLock(long UserId, long SkuId, long DiscountMinor, long CreatedMs, char State)
{
    /// <summary>Locked by a Try whose order is not yet known to exist.</summary>
    public const char Tried = 'T';

    /// <summary>Locked by an order that exists (unpaid).</summary>
    public const char Locked = 'L';

    public const char Redeemed = 'R';

    public const char Released = 'C';

    /// <summary>Cancelled before any Try reached the pool (an empty rollback): refuses a late Try.</summary>
    public const char CancelledUntried = 'X';

    /// <summary>Tried, locked or redeemed: the coupon is not in the pool.</summary>
    public bool Holds => State is Tried or Locked or Redeemed;

    public static CouponLock Parse(string record)
    {
        var parts = record.Split('|');
        if (parts.Length != 5
            || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var user)
            || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var sku)
            || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var discount)
            || !long.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out var created)
            || parts[4] is not [Tried or Locked or Redeemed or Released or CancelledUntried])
        {
            throw new FormatException($"Malformed coupon lock '{record}'.");
        }
        return new CouponLock(user, sku, discount, created, parts[4][0]);
    }
}

/// <summary>What a pool's warm-up writes: its definition, and the campaign's window (a coupon is used only within it).</summary>
public readonly record struct CouponLoad(int Total, long DiscountMinor, long MinSpendMinor, int PerUserLimit, long StartsMs, long EndsMs);

/// <summary>The answer of coupon-try.lua.</summary>
/// <param name="OrderNo">Done: the order number given; Replayed: the order number the key's (or this number's) earlier Try locked the coupon for.</param>
/// <param name="Reason">Why a coupon is unavailable: <c>empty</c>, <c>limit</c>, <c>min-spend</c> or <c>cancelled</c>.</param>
/// <param name="Position">The pool's decision position: the lock's own for Done, the pool's current one otherwise.</param>
public readonly record struct CouponTryReply(ScriptCode Code, long OrderNo, long DiscountMinor, string? Reason, DecisionPosition Position);

public enum CouponCancelOutcome
{
    /// <summary>The coupon went back to the pool now.</summary>
    Released,

    /// <summary>It went back before (or the order number was cancelled before any Try).</summary>
    AlreadyReleased,

    /// <summary>No Try was made for the order number: nothing changed, and the cancel is recorded so that a late Try is refused.</summary>
    NothingTried,

    /// <summary>The coupon is redeemed (the order paid): never given back.</summary>
    Redeemed,

    /// <summary>The pool is not loaded.</summary>
    NotWarmed,
}

public enum CouponRedeemOutcome
{
    Redeemed,
    AlreadyRedeemed,
    UnknownOrder,

    /// <summary>The pool says the coupon was given back: MySQL and Redis contradict each other.</summary>
    Released,
}

public enum CouponBarOutcome
{
    /// <summary>No order can be made under the number any more: its coupon may be given back.</summary>
    Barred,

    /// <summary>The SKU's ledger holds the order: it exists.</summary>
    OrderExists,

    /// <summary>The SKU is fenced: its ledger is not to be judged until it is rebuilt.</summary>
    Fenced,
}

/// <summary>coupon-counters.lua's answer: the pool at one instant (Redis's clock <see cref="At"/>).</summary>
public sealed record CouponCounters(
    DateTimeOffset At, bool Warmed, long Total, long Available, long Locked, long Redeemed, long Sequence, long Tried, long TriedYoung)
{
    public static CouponCounters NotWarmed(DateTimeOffset at) => new(at, false, 0, 0, 0, 0, 0, 0, 0);
}

/// <summary>
/// The typed face of the coupon pools' scripts (coupon-*.lua), and of the SKU scripts a pool shares because its meta hash
/// has a SKU's layout (fence.lua, recover.lua, restock.lua).
/// </summary>
public sealed class CouponScripts(ScriptMetrics metrics)
{
    private static readonly RedisScript Warmup = RedisScript.Load("coupon-warmup.lua");
    private static readonly RedisScript Try = RedisScript.Load("coupon-try.lua");
    private static readonly RedisScript Cancel = RedisScript.Load("coupon-cancel.lua");
    private static readonly RedisScript Redeem = RedisScript.Load("coupon-redeem.lua");
    private static readonly RedisScript Attach = RedisScript.Load("coupon-attach.lua");
    private static readonly RedisScript Bar = RedisScript.Load("coupon-bar.lua");
    private static readonly RedisScript Adopt = RedisScript.Load("coupon-adopt.lua");
    private static readonly RedisScript Counters = RedisScript.Load("coupon-counters.lua");
    private static readonly RedisScript Fence = RedisScript.Load("fence.lua");
    private static readonly RedisScript Recover = RedisScript.Load("recover.lua");
    private static readonly RedisScript Restock = RedisScript.Load("restock.lua");

    public async Task<WarmupReply> WarmupAsync(IDatabaseAsync db, CouponKeys pool, CouponLoad load, bool force)
    {
        var reply = (RedisResult[])(await Warmup.EvaluateAsync(db, metrics, [pool.Meta],
            [load.Total, load.DiscountMinor, load.MinSpendMinor, load.PerUserLimit, load.StartsMs, load.EndsMs, force ? "1" : "0"]))!;
        return Code(reply) switch
        {
            ScriptCode.Done => new(true, (int)reply[1]),
            ScriptCode.AlreadyDone => new(false, (int)reply[1]),
            var code => throw Unexpected(Warmup, code),
        };
    }

    /// <summary>Try-coupon: locks a coupon for <paramref name="orderNo"/> (or finds the key's earlier lock), see coupon-try.lua.</summary>
    public async Task<CouponTryReply> TryAsync(
        IDatabaseAsync db, CouponKeys pool, long orderNo, long userId, long skuId, string idempotencyKey, long spendMinor, DecisionPosition seen)
    {
        var reply = (RedisResult[])(await Try.EvaluateAsync(db, metrics, [pool.Meta, pool.Users, pool.Locks, pool.Idempotency, pool.Tried],
            [orderNo, userId, skuId, idempotencyKey, spendMinor, seen.Sequence, seen.Epoch]))!;
        var code = Code(reply);
        var position = new DecisionPosition((long)reply[3], (long)reply[4]);
        return code switch
        {
            ScriptCode.Done or ScriptCode.Replayed => new(code, long.Parse((string)reply[1]!, CultureInfo.InvariantCulture), (long)reply[2], null, position),
            ScriptCode.CouponUnavailable => new(code, 0, 0, (string?)reply[1], position),
            ScriptCode.NotWarmed or ScriptCode.NotStarted or ScriptCode.Ended or ScriptCode.Fenced => new(code, 0, 0, null, position),
            _ => throw Unexpected(Try, code),
        };
    }

    /// <summary>Cancel: gives the coupon of <paramref name="orderNo"/> back, once; records a cancel that came before its Try.</summary>
    public async Task<CouponCancelOutcome> CancelAsync(IDatabaseAsync db, CouponKeys pool, long orderNo)
    {
        var code = (ScriptCode)(int)await Cancel.EvaluateAsync(db, metrics, [pool.Meta, pool.Users, pool.Locks, pool.Tried], [orderNo]);
        return code switch
        {
            ScriptCode.Done => CouponCancelOutcome.Released,
            ScriptCode.AlreadyDone => CouponCancelOutcome.AlreadyReleased,
            ScriptCode.UnknownOrder => CouponCancelOutcome.NothingTried,
            ScriptCode.OrderPaid => CouponCancelOutcome.Redeemed,
            ScriptCode.NotWarmed => CouponCancelOutcome.NotWarmed,
            _ => throw Unexpected(Cancel, code),
        };
    }

    /// <summary>Confirm: the order of <paramref name="orderNo"/> is paid; its coupon is redeemed.</summary>
    public async Task<CouponRedeemOutcome> RedeemAsync(IDatabaseAsync db, CouponKeys pool, long orderNo)
    {
        var code = (ScriptCode)(int)await Redeem.EvaluateAsync(db, metrics, [pool.Meta, pool.Locks, pool.Tried], [orderNo]);
        return code switch
        {
            ScriptCode.Done => CouponRedeemOutcome.Redeemed,
            ScriptCode.AlreadyDone => CouponRedeemOutcome.AlreadyRedeemed,
            ScriptCode.UnknownOrder => CouponRedeemOutcome.UnknownOrder,
            ScriptCode.OrderReleased => CouponRedeemOutcome.Released,
            _ => throw Unexpected(Redeem, code),
        };
    }

    /// <summary>Notes that the order of a tried lock exists (T → L); true when it changed the lock now.</summary>
    public async Task<bool> AttachAsync(IDatabaseAsync db, CouponKeys pool, long orderNo)
    {
        var code = (ScriptCode)(int)await Attach.EvaluateAsync(db, metrics, [pool.Locks, pool.Tried], [orderNo]);
        return code switch
        {
            ScriptCode.Done => true,
            ScriptCode.AlreadyDone or ScriptCode.UnknownOrder => false,
            _ => throw Unexpected(Attach, code),
        };
    }

    /// <summary>On the SKU: bars <paramref name="orderNo"/> unless its ledger holds the order (coupon-bar.lua).</summary>
    public async Task<CouponBarOutcome> BarAsync(IDatabaseAsync db, SkuKeys sku, long orderNo)
    {
        var code = (ScriptCode)(int)await Bar.EvaluateAsync(db, metrics, [sku.Meta, sku.Ledger, CouponKeyspace.CouponsOf(sku)], [orderNo]);
        return code switch
        {
            ScriptCode.Done => CouponBarOutcome.Barred,
            ScriptCode.AlreadyDone => CouponBarOutcome.OrderExists,
            ScriptCode.Fenced => CouponBarOutcome.Fenced,
            _ => throw Unexpected(Bar, code),
        };
    }

    /// <summary>Puts back the coupon of a live order MySQL holds; returns null when the pool held it already or is not loaded, else whether the pool was short.</summary>
    public async Task<bool?> AdoptAsync(IDatabaseAsync db, CouponKeys pool, long orderNo, long userId, long skuId, long discountMinor, long createdMs,
        bool redeemed, string idempotencyKey)
    {
        var reply = (RedisResult[])(await Adopt.EvaluateAsync(db, metrics, [pool.Meta, pool.Users, pool.Locks, pool.Idempotency],
            [orderNo, userId, skuId, discountMinor, createdMs, redeemed ? "R" : "L", idempotencyKey]))!;
        return Code(reply) switch
        {
            ScriptCode.Done => (long)reply[1] > 0,
            ScriptCode.AlreadyDone or ScriptCode.NotWarmed => null,
            var code => throw Unexpected(Adopt, code),
        };
    }

    /// <summary>The pool's counts at one instant; <paramref name="grace"/> splits its tried locks into young and old.</summary>
    public async Task<CouponCounters> CountersAsync(IDatabaseAsync db, CouponKeys pool, TimeSpan grace)
    {
        var reply = (RedisResult[])(await Counters.EvaluateAsync(db, metrics, [pool.Meta, pool.Tried], [(long)grace.TotalMilliseconds]))!;
        var at = DateTimeOffset.FromUnixTimeMilliseconds((long)reply[1]);
        return Code(reply) switch
        {
            ScriptCode.NotWarmed => CouponCounters.NotWarmed(at),
            ScriptCode.Done => new CouponCounters(at, true, (long)reply[2], (long)reply[3], (long)reply[4], (long)reply[5], (long)reply[6],
                (long)reply[7], (long)reply[8]),
            var code => throw Unexpected(Counters, code),
        };
    }

    /// <summary>Fences the pool (fence.lua on its meta): no coupon is tried until recovery lifts it.</summary>
    public async Task<FenceOutcome> FenceAsync(IDatabaseAsync db, CouponKeys pool, string reason)
    {
        var code = (ScriptCode)(int)await Fence.EvaluateAsync(db, metrics, [pool.Meta], [reason]);
        return code switch
        {
            ScriptCode.Done => FenceOutcome.Fenced,
            ScriptCode.AlreadyDone => FenceOutcome.AlreadyFenced,
            ScriptCode.NotWarmed => FenceOutcome.NotWarmed,
            _ => throw Unexpected(Fence, code),
        };
    }

    /// <summary>Lifts the pool's fence (recover.lua on its meta): available = total − held, sequence ≥ <paramref name="highWater"/>, a new epoch.</summary>
    public async Task<RecoverReply> RecoverAsync(IDatabaseAsync db, CouponKeys pool, long highWater)
    {
        var reply = (RedisResult[])(await Recover.EvaluateAsync(db, metrics, [pool.Meta], [highWater, pool.Member]))!;
        var outcome = Code(reply) switch
        {
            ScriptCode.Done => RecoverOutcome.Unfenced,
            ScriptCode.NotFenced => RecoverOutcome.NotFenced,
            ScriptCode.NotWarmed => RecoverOutcome.NotWarmed,
            ScriptCode.NotCounted => RecoverOutcome.NotCounted,
            var code => throw Unexpected(Recover, code),
        };
        return new RecoverReply(outcome, (long)reply[1], (long)reply[2]);
    }

    /// <summary>Sets the pool's available coupons to total − held (restock.lua), raising them no higher than <paramref name="ceiling"/>.</summary>
    public async Task<RestockReply?> RestockAsync(IDatabaseAsync db, CouponKeys pool, long ceiling)
    {
        var reply = (RedisResult[])(await Restock.EvaluateAsync(db, metrics, [pool.Meta], [ceiling, pool.Member]))!;
        return Code(reply) switch
        {
            ScriptCode.Done => new RestockReply((long)reply[1], (long)reply[2]),
            ScriptCode.NotWarmed or ScriptCode.NotCounted => null,
            var code => throw Unexpected(Restock, code),
        };
    }

    private static ScriptCode Code(RedisResult[] reply) => (ScriptCode)(int)reply[0];

    private static ScriptException Unexpected(RedisScript script, ScriptCode code)
        => new($"{script.Name}.lua replied with code {code}, which its wrapper does not expect.");
}
