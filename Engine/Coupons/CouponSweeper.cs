using System.Globalization;
using Dapper;
using FlashSale.Engine.Buckets;
using FlashSale.Engine.Redis;
using FlashSale.Engine.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace FlashSale.Engine.Coupons;

/// <summary>What one sweep of a pool did with the tried locks older than the grace period.</summary>
public readonly record struct SweepResult(int Cancelled, int Attached, int Skipped);

/// <summary>
/// Gives back coupons whose order was never made: a Try-coupon locked one (state T) and the stock's Try never followed —
/// the Ingress died between the two, or could not tell whether its Try-stock ran. A lock is looked at once it is older than
/// <see cref="CouponOptions.OrphanGraceMs"/> (the pool's sorted set of tried locks, oldest first, so a sweep costs what it
/// finds, not the pool's size): if MySQL holds its order, or the SKU's ledger (the buyer's bucket's) does (coupon-bar.lua answers so), the lock is
/// noted as belonging to an order (T → L) and left; otherwise the order number is first barred on the SKU, so a Try-stock
/// arriving even later is refused, and only then is the coupon cancelled (coupon-cancel.lua). A fenced SKU's ledger is not
/// judged until it is rebuilt. Every step is a script that re-checks its condition, so two sweepers at once do no harm.
/// Run by the Persister (<see cref="CouponSweepService"/>) and by the coupon reconciler's repair of an orphan.
/// </summary>
public sealed partial class CouponSweeper(
    IDatabase db,
    CouponScripts scripts,
    BucketMap buckets,
    ShardDataSources shards,
    CouponMetrics metrics,
    IOptions<CouponOptions> options,
    ILogger<CouponSweeper> logger)
{
    /// <summary>Sweeps every live pool once.</summary>
    public async Task<SweepResult> SweepAsync(CancellationToken cancellationToken)
    {
        var total = new SweepResult();
        foreach (var pool in await CouponKeyspace.LivePoolsAsync(db))
        {
            var result = await SweepAsync(pool, cancellationToken);
            total = new(total.Cancelled + result.Cancelled, total.Attached + result.Attached, total.Skipped + result.Skipped);
        }
        return total;
    }

    /// <summary>Sweeps the pool's tried locks older than the grace period (at most <see cref="CouponOptions.SweepBatchSize"/>).</summary>
    public async Task<SweepResult> SweepAsync(CouponKeys pool, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var counters = await scripts.CountersAsync(db, pool, TimeSpan.FromMilliseconds(settings.OrphanGraceMs));
        if (!counters.Warmed || counters.Tried == counters.TriedYoung)
        {
            return default;
        }
        var before = counters.At.ToUnixTimeMilliseconds() - settings.OrphanGraceMs;
        var old = await db.SortedSetRangeByScoreAsync(pool.Tried, double.NegativeInfinity, before, take: settings.SweepBatchSize);
        return await ResolveAsync(pool, [.. old.Select(o => long.Parse(o.ToString(), NumberStyles.None, CultureInfo.InvariantCulture))], cancellationToken);
    }

    /// <summary>Resolves tried locks of these order numbers: attached to their order when it exists, cancelled when it never can.</summary>
    public async Task<SweepResult> ResolveAsync(CouponKeys pool, IReadOnlyList<long> orderNos, CancellationToken cancellationToken)
    {
        if (orderNos.Count == 0)
        {
            return default;
        }
        var inMySql = await PersistedAsync(orderNos, cancellationToken);
        int cancelled = 0, attached = 0, skipped = 0;
        foreach (var orderNo in orderNos)
        {
            if (inMySql.Contains(orderNo))
            {
                attached += await scripts.AttachAsync(db, pool, orderNo) ? 1 : 0;
                continue;
            }
            var record = await db.HashGetAsync(pool.Locks, orderNo);
            if (record.IsNull || CouponLock.Parse(record.ToString()) is not { State: CouponLock.Tried } tried)
            {
                // Resolved meanwhile (released, redeemed, attached): only its place on the list was left.
                await scripts.AttachAsync(db, pool, orderNo);
                continue;
            }
            // The ledger that would hold the order: the SKU's, or the buyer's bucket's when the SKU is split.
            switch (await scripts.BarAsync(db, await buckets.KeysForAsync(pool.CampaignId, tried.SkuId, tried.UserId), orderNo))
            {
                case CouponBarOutcome.OrderExists:
                    attached += await scripts.AttachAsync(db, pool, orderNo) ? 1 : 0;
                    break;
                case CouponBarOutcome.Fenced:
                    skipped++;
                    break;
                default:
                    if (await scripts.CancelAsync(db, pool, orderNo) == CouponCancelOutcome.Released)
                    {
                        cancelled++;
                        LogOrphanCancelled(logger, orderNo, pool.Member, tried.UserId);
                    }
                    break;
            }
        }
        metrics.Cancelled("orphan", cancelled);
        return new(cancelled, attached, skipped);
    }

    /// <summary>The order numbers among these that MySQL holds (any status), each looked up by key on its own shard.</summary>
    private async Task<HashSet<long>> PersistedAsync(IReadOnlyList<long> orderNos, CancellationToken cancellationToken)
    {
        var found = await Task.WhenAll(orderNos.GroupBy(shards.OfOrder).Select(async group =>
        {
            await using var connection = await shards.OpenAsync(group.Key, cancellationToken);
            return await connection.QueryAsync<long>(new CommandDefinition(
                "SELECT order_no FROM orders WHERE order_no IN @orderNos", new { orderNos = group.ToArray() }, cancellationToken: cancellationToken));
        }));
        return [.. found.SelectMany(f => f)];
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Coupon sweep: order {OrderNo} of buyer {UserId} never got its stock; gave its coupon back to {Pool}")]
    private static partial void LogOrphanCancelled(ILogger logger, long orderNo, string pool, long userId);
}
