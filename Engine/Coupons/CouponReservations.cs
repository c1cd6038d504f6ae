using System.Collections.Concurrent;
using FlashSale.Engine.Fencing;
using FlashSale.Engine.Redis;
using FlashSale.Engine.Reservations;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace FlashSale.Engine.Coupons;

/// <summary>A coupon locked for a reservation: the order number it is locked for, and what the order carries of it.</summary>
/// <param name="Fresh">Locked by this request (false: the key's earlier Try locked it, and this is its retry).</param>
public sealed record CouponHold(CouponKeys Pool, long OrderNo, CouponUse Use, bool Fresh);

/// <summary>Try-coupon's outcome for the reservation: a hold, or the answer the buyer gets instead (nothing held).</summary>
public readonly record struct CouponTryResult(CouponHold? Hold, ReservationStatus Refusal);

/// <summary>
/// The coupon's half of a couponed reservation, the two-script TCC (see README, "Coupons"): Try-coupon on the pool
/// (coupon-try.lua, its own hash tag) before the stock's Try on the SKU (reserve-many.lua, through the SKU's lane), both
/// keyed by one order number; Cancel of the coupon when the stock's Try refused. Called by <see cref="ReservationService"/>.
/// <para>
/// The order number: allocated once per request, and a retry with the same Idempotency-Key gets the number its first
/// Try locked a coupon for back from the pool (<see cref="CouponKeys.Idempotency"/>), so the stock's Try is made under
/// that number and replays the order if it exists; the buyer's per-user limit is not taken twice. Try-coupon is one script
/// call per request (not coalesced per pool); the stock's Try joins the SKU's batches with its discount in the request.
/// </para>
/// </summary>
public sealed partial class CouponReservations(
    IDatabase db,
    CouponScripts scripts,
    RedisIdentityGate gate,
    CouponMetrics metrics,
    IOptions<CouponOptions> options,
    ILogger<CouponReservations> logger)
{
    // The furthest decision position this process has seen per pool, passed to every Try: a pool that comes back behind it is fenced.
    private readonly ConcurrentDictionary<(string, string), DecisionPosition> _seen = new();

    private int _seenEpoch;

    // SKU prices (minor units) as Redis holds them: definitions never change, so one read per SKU and process.
    private readonly ConcurrentDictionary<(string, long), long> _prices = new();

    /// <summary>Whether this process crashes between the two Tries (a crash test's configuration; never by default).</summary>
    public bool CrashesBetweenTries { get; } = options.Value.CrashPoint == CouponOptions.BetweenTries;

    /// <summary>Try-coupon for <paramref name="request"/> under <paramref name="orderNo"/> (or the key's earlier order number).</summary>
    public async Task<CouponTryResult> TryAsync(ReservationRequest request, long orderNo)
    {
        var pool = new CouponKeys(request.CampaignId, request.CouponId!);
        if (!gate.IsOpenFor(pool))
        {
            metrics.Tried("recovering");
            return new(null, ReservationStatus.Recovering);
        }
        if (gate.Epoch != Volatile.Read(ref _seenEpoch))
        {
            _seen.Clear();
            Volatile.Write(ref _seenEpoch, gate.Epoch);
        }
        if (await PriceAsync(new SkuKeys(request.CampaignId, request.SkuId)) is not { } price)
        {
            // A SKU Redis does not hold: the stock's Try would say so; no coupon is tried for it.
            return new(null, ReservationStatus.NotOnSale);
        }
        var reply = await scripts.TryAsync(db, pool, orderNo, request.UserId, request.SkuId, request.IdempotencyKey,
            price * request.Quantity, _seen.GetValueOrDefault((pool.CampaignId, pool.CouponId)));
        switch (reply.Code)
        {
            case ScriptCode.Done:
            case ScriptCode.Replayed:
                See((pool.CampaignId, pool.CouponId), reply.Position);
                metrics.Tried(reply.Code == ScriptCode.Done ? "locked" : "replay");
                return new(new CouponHold(pool, reply.OrderNo, new CouponUse(pool.CouponId, reply.DiscountMinor, reply.Position.Sequence),
                    reply.Code == ScriptCode.Done), default);
            case ScriptCode.Fenced:
                _seen.TryRemove((pool.CampaignId, pool.CouponId), out _);
                metrics.Tried("recovering");
                return new(null, ReservationStatus.Recovering);
            case ScriptCode.NotStarted:
                metrics.Tried("not-started");
                return new(null, ReservationStatus.NotStarted);
            case ScriptCode.Ended:
                metrics.Tried("ended");
                return new(null, ReservationStatus.Ended);
            default:
                // Unknown pool (not defined, or not warmed), empty, the buyer's limit, the minimum spend, a cancelled number.
                See((pool.CampaignId, pool.CouponId), reply.Position);
                metrics.Tried(reply.Reason ?? "unknown-coupon");
                return new(null, ReservationStatus.CouponUnavailable);
        }
    }

    /// <summary>
    /// Whether the stock's answer means no order exists under the hold's number, so its coupon must go back now: a refusal
    /// that wrote nothing. Not for an answer that leaves the order's existence open — an order that stands (created, replayed,
    /// not yet durable), a fenced SKU (its ledger may have forgotten an order that exists), or a key that owns the very
    /// order the hold is for (another quantity with the same key): those are the sweep's to judge.
    /// </summary>
    public static bool StockRefused(ReservationStatus status, long? priorOrderNo, CouponHold hold) => status switch
    {
        ReservationStatus.SoldOut or ReservationStatus.PurchaseLimit or ReservationStatus.NotStarted or ReservationStatus.Ended
            or ReservationStatus.NotOnSale or ReservationStatus.CouponUnavailable => true,
        ReservationStatus.IdempotencyKeyReused => priorOrderNo != hold.OrderNo,
        _ => false,
    };

    /// <summary>
    /// Cancel of the hold's coupon after the stock's Try refused. A failure is logged, not thrown: the buyer's answer is the
    /// stock's, and the orphan sweep gives the coupon back after its grace period.
    /// </summary>
    public async Task CancelAsync(CouponHold hold)
    {
        try
        {
            if (await scripts.CancelAsync(db, hold.Pool, hold.OrderNo) == CouponCancelOutcome.Released)
            {
                metrics.Cancelled("stock-refused");
            }
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            LogCancelDeferred(logger, ex, hold.OrderNo, hold.Pool.Member);
        }
    }

    private async Task<long?> PriceAsync(SkuKeys sku)
    {
        if (_prices.TryGetValue((sku.CampaignId, sku.SkuId), out var price))
        {
            return price;
        }
        var value = await db.HashGetAsync(sku.Meta, MetaFields.Price);
        if (value.IsNull)
        {
            return null;
        }
        price = (long)value;
        _prices.TryAdd((sku.CampaignId, sku.SkuId), price);
        return price;
    }

    private void See((string, string) pool, DecisionPosition position)
        => _seen.AddOrUpdate(pool, position, (_, current) => position > current ? position : current);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not give back the coupon of order {OrderNo} ({Pool}) after its stock was refused; the orphan sweep will")]
    private static partial void LogCancelDeferred(ILogger logger, Exception exception, long orderNo, string pool);
}
