using Dapper;
using FlashSale.Engine.Orders;
using FlashSale.Engine.Redis;
using FlashSale.Engine.Storage;
using Microsoft.Extensions.Logging;
using MySqlConnector;
using StackExchange.Redis;

namespace FlashSale.Engine.Lifecycle;

public enum CancelOutcome
{
    Cancelled,
    AlreadyCancelled,
    Paid,
    NotFound,
}

public sealed record PaymentCallback(long OrderNo, string ProviderTxnId, decimal Amount, bool Succeeded);

public sealed record PaymentResult(PaymentOutcome Outcome, string? OrderStatus);

/// <summary>
/// The order's Try/Confirm/Cancel after the reservation (the Try) was decided in Redis. MySQL is the
/// arbiter: Confirm (paid) and Cancel (buyer, failed payment, payment-window timeout) are conditional
/// UPDATEs from PendingPayment, so whichever commits first wins and the other changes nothing.
/// A cancelled order's units go back to Redis after the commit with an idempotent script keyed by the
/// order number; <c>stock_released</c> records that it happened, and <see cref="ReleasePendingAsync"/>
/// finishes any release a crash interrupted — so a unit returns exactly once. An order of a SKU split into stock
/// buckets is released into (and marked paid in) the bucket that decided it, <c>orders.bucket</c>.
/// An order made with a coupon holds a second resource the same way: its Confirm redeems the coupon (coupon-redeem.lua) and
/// its Cancel gives the coupon back to its pool (coupon-cancel.lua, idempotent per order number) right after the units,
/// before <c>stock_released</c> is set, so an interrupted release returns both, each exactly once.
/// </summary>
public sealed partial class OrderLifecycle(
    ShardDataSources shards,
    IDatabase db,
    SkuScripts scripts,
    LifecycleMetrics metrics,
    TimeProvider time,
    ILogger<OrderLifecycle> logger,
    CouponScripts? couponScripts = null)
{
    /// <summary>Why an order was cancelled, as the status log and the cancellation metric name it.</summary>
    public const string PaymentFailedReason = "payment-failed";

    public const string PaymentTimeoutReason = "payment-timeout";

    public async Task<(CancelOutcome Outcome, string? Status)> CancelAsync(long orderNo, string reason, CancellationToken cancellationToken)
    {
        var (cancelled, status) = await Deadlocks.RetryAsync(async () =>
        {
            await using var connection = await shards.OpenAsync(shards.OfOrder(orderNo), cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            var changed = await CancelInTransactionAsync(connection, transaction, [orderNo], reason, cancellationToken);
            var current = changed.Count == 0
                ? await connection.ExecuteScalarAsync<string?>(new CommandDefinition(
                    "SELECT status FROM orders WHERE order_no = @orderNo", new { orderNo }, transaction, cancellationToken: cancellationToken))
                : OrderStatus.Cancelled;
            await transaction.CommitAsync(cancellationToken);
            return (changed, current);
        }, cancellationToken);

        if (cancelled.Count > 0)
        {
            metrics.OrdersCancelled(reason, cancelled.Count);
            await TryReleaseAsync(cancelled, cancellationToken);
            return (CancelOutcome.Cancelled, status);
        }
        return status switch
        {
            null => (CancelOutcome.NotFound, null),
            OrderStatus.Paid => (CancelOutcome.Paid, status),
            _ => (CancelOutcome.AlreadyCancelled, status),
        };
    }

    public async Task<PaymentResult> ApplyPaymentAsync(PaymentCallback callback, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var decided = await Deadlocks.RetryAsync(() => DecidePaymentAsync(callback, now, cancellationToken), cancellationToken);
        metrics.PaymentCallback(decided.Outcome, decided.Replayed);
        if (decided.Order is not { } order)
        {
            return new PaymentResult(decided.Outcome, null);
        }
        var (outcome, toRelease) = (decided.Outcome, decided.ToRelease);
        if (decided.Replayed)
        {
            return new PaymentResult(outcome, order.Status);
        }

        metrics.OrdersCancelled(PaymentFailedReason, toRelease.Count);
        await TryReleaseAsync(toRelease, cancellationToken);
        if (outcome == PaymentOutcome.Applied)
        {
            await MarkPaidInLedgerAsync(new SkuKeys(order.CampaignId, order.SkuId, order.Bucket), callback.OrderNo);
            if (order.CouponId is { } couponId)
            {
                await RedeemCouponAsync(new CouponKeys(order.CampaignId, couponId), callback.OrderNo);
            }
        }
        var status = outcome switch
        {
            PaymentOutcome.Applied => OrderStatus.Paid,
            PaymentOutcome.Failed when toRelease.Count > 0 => OrderStatus.Cancelled,
            _ => order.Status,
        };
        return new PaymentResult(outcome, status);
    }

    private async Task<PaymentDecision> DecidePaymentAsync(PaymentCallback callback, DateTime now, CancellationToken cancellationToken)
    {
        List<OrderRef> toRelease = [];
        PaymentOutcome outcome;
        await using var connection = await shards.OpenAsync(shards.OfOrder(callback.OrderNo), cancellationToken);
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            // Locking the order serialises every callback and cancel of this order, including the provider's retries.
            var order = await connection.QuerySingleOrDefaultAsync<OrderRow>(new CommandDefinition("""
                SELECT order_no AS OrderNo, campaign_id AS CampaignId, sku_id AS SkuId, amount AS Amount, status AS Status, bucket AS Bucket, coupon_id AS CouponId
                FROM orders WHERE order_no = @OrderNo FOR UPDATE
                """, new { callback.OrderNo }, transaction, cancellationToken: cancellationToken));
            if (order is null)
            {
                await transaction.RollbackAsync(cancellationToken);
                return new PaymentDecision(
                    PaymentRules.ForMissingOrder(time.GetUtcNow() - OrderNumbers.TimestampOf(callback.OrderNo)), null, [], Replayed: false);
            }

            var recorded = await connection.ExecuteScalarAsync<string?>(new CommandDefinition(
                "SELECT outcome FROM payments WHERE provider_txn_id = @ProviderTxnId",
                new { callback.ProviderTxnId }, transaction, cancellationToken: cancellationToken));
            if (recorded is not null)
            {
                await transaction.RollbackAsync(cancellationToken);
                return new PaymentDecision(PaymentRules.ParseRecorded(recorded), order, [], Replayed: true);
            }

            outcome = PaymentRules.Decide(callback.Succeeded, callback.Amount, order.Amount, order.Status);
            if (outcome == PaymentOutcome.Failed)
            {
                toRelease = await CancelInTransactionAsync(connection, transaction, [callback.OrderNo], PaymentFailedReason, cancellationToken);
            }
            else if (outcome == PaymentOutcome.Applied)
            {
                await ConfirmInTransactionAsync(connection, transaction, callback.OrderNo, now, cancellationToken);
            }

            await connection.ExecuteAsync(new CommandDefinition("""
                INSERT INTO payments (provider_txn_id, order_no, amount, provider_status, outcome, created_at)
                VALUES (@ProviderTxnId, @OrderNo, @Amount, @ProviderStatus, @Outcome, @now)
                """,
                new
                {
                    callback.ProviderTxnId,
                    callback.OrderNo,
                    callback.Amount,
                    ProviderStatus = callback.Succeeded ? "succeeded" : "failed",
                    Outcome = PaymentRules.Name(outcome),
                    now,
                }, transaction, cancellationToken: cancellationToken));
            await transaction.CommitAsync(cancellationToken);
            return new PaymentDecision(outcome, order, toRelease, Replayed: false);
        }
    }

    /// <summary>
    /// Cancels orders whose payment window closed before <paramref name="now"/>: up to <paramref name="limit"/>
    /// per shard in one transaction, shards side by side, then returns their units. Rows another
    /// transaction holds (a payment being applied, another Persister's scan) are skipped, not waited for.
    /// </summary>
    public async Task<int> CancelExpiredAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken)
    {
        var perShard = await Task.WhenAll(Enumerable.Range(0, shards.Count).Select(async shard =>
        {
            var cancelled = await Deadlocks.RetryAsync(async () =>
            {
                await using var connection = await shards.OpenAsync(shard, cancellationToken);
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                var expired = (await connection.QueryAsync<long>(new CommandDefinition("""
                    SELECT order_no FROM orders
                    WHERE status = 'PendingPayment' AND payment_deadline <= @now
                    ORDER BY payment_deadline LIMIT @limit
                    FOR UPDATE SKIP LOCKED
                    """, new { now = now.UtcDateTime, limit }, transaction, cancellationToken: cancellationToken))).ToList();
                var changed = await CancelInTransactionAsync(connection, transaction, expired, PaymentTimeoutReason, cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                return changed;
            }, cancellationToken);
            metrics.OrdersCancelled(PaymentTimeoutReason, cancelled.Count);
            await TryReleaseAsync(cancelled, cancellationToken);
            return cancelled.Count;
        }));
        return perShard.Sum();
    }

    /// <summary>Finishes releases that a crash or a Redis outage interrupted after the cancel committed.</summary>
    public async Task<int> ReleasePendingAsync(int limit, CancellationToken cancellationToken)
    {
        var pending = await shards.QueryEveryShardAsync<OrderRef>("""
            SELECT order_no AS OrderNo, campaign_id AS CampaignId, sku_id AS SkuId, quantity AS Quantity, bucket AS Bucket, coupon_id AS CouponId FROM orders
            WHERE status = 'Cancelled' AND stock_released = 0 LIMIT @limit
            """, new { limit }, cancellationToken);
        return await ReleaseAsync(pending, cancellationToken);
    }

    /// <summary>
    /// Returns the units of orders that MySQL holds as cancelled (the reconciler's repair of a release that
    /// never ran) to the SKU (the bucket) <paramref name="sku"/> whose ledger holds them; like every release it gives an
    /// order's units back at most once. Returns how many it gave back now.
    /// </summary>
    public Task<int> ReleaseCancelledAsync(SkuKeys sku, IReadOnlyList<(long OrderNo, int Quantity)> orders, CancellationToken cancellationToken)
        => ReleaseAsync([.. orders.Select(order => new OrderRef(order.OrderNo, sku.CampaignId, sku.SkuId, order.Quantity, sku.Bucket, null))], cancellationToken);

    /// <summary>The release right after a cancel; if Redis is unreachable the cancel stands and <see cref="ReleasePendingAsync"/> returns the units later.</summary>
    private async Task TryReleaseAsync(IReadOnlyList<OrderRef> orders, CancellationToken cancellationToken)
    {
        try
        {
            await ReleaseAsync(orders, cancellationToken);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            LogReleaseDeferred(logger, ex, orders.Count);
        }
    }

    /// <summary>
    /// Runs the idempotent release script for each order (pipelined) and records which units are back;
    /// returns how many orders this call gave units back for.
    /// </summary>
    private async Task<int> ReleaseAsync(IReadOnlyList<OrderRef> orders, CancellationToken cancellationToken)
    {
        if (orders.Count == 0)
        {
            return 0;
        }
        var replies = await Task.WhenAll(orders.Select(order => scripts.ReleaseAsync(db, new SkuKeys(order.CampaignId, order.SkuId, order.Bucket), order.OrderNo)));

        var done = new List<long>(orders.Count);
        var releasedNow = 0;
        var unitsReleased = 0L;
        for (var i = 0; i < orders.Count; i++)
        {
            switch (replies[i])
            {
                case ReleaseOutcome.Paid:
                    // MySQL says cancelled, the ledger says paid: something outside the lifecycle wrote one of them.
                    LogReleaseRefused(logger, orders[i].OrderNo);
                    continue;
                case ReleaseOutcome.UnknownOrder:
                    // Redis no longer knows the reservation (it came back from an older state): its stock never
                    // counted this order's units, so there is nothing to give back.
                    LogReleaseUnknown(logger, orders[i].OrderNo);
                    break;
                case ReleaseOutcome.Released:
                    releasedNow++;
                    unitsReleased += orders[i].Quantity;
                    break;
            }
            done.Add(orders[i].OrderNo);
        }
        // Counted when Redis took the units back, the moment they are sellable again.
        metrics.UnitsReleased(unitsReleased);
        await ReleaseCouponsAsync([.. orders.Where(o => o.CouponId is not null && done.Contains(o.OrderNo))]);
        foreach (var shard in done.GroupBy(shards.OfOrder))
        {
            await using var connection = await shards.OpenAsync(shard.Key, cancellationToken);
            await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE orders SET stock_released = 1 WHERE order_no IN @ids", new { ids = shard.ToList() }, cancellationToken: cancellationToken));
        }
        return releasedNow;
    }

    /// <summary>
    /// Gives the coupons of released orders back to their pools (pipelined; each at most once per order number), before the
    /// orders are marked released: a failure here leaves them for <see cref="ReleasePendingAsync"/>, which returns both again.
    /// </summary>
    private async Task ReleaseCouponsAsync(IReadOnlyList<OrderRef> orders)
    {
        if (orders.Count == 0 || couponScripts is null)
        {
            return;
        }
        var outcomes = await Task.WhenAll(orders.Select(o => couponScripts.CancelAsync(db, new CouponKeys(o.CampaignId, o.CouponId!), o.OrderNo)));
        for (var i = 0; i < orders.Count; i++)
        {
            if (outcomes[i] == CouponCancelOutcome.Redeemed)
            {
                // MySQL says cancelled, the pool says redeemed: left to the coupon reconciler and an operator.
                LogCouponReleaseRefused(logger, orders[i].OrderNo, orders[i].CouponId!);
            }
        }
        metrics.CouponsReleased(outcomes.Count(o => o == CouponCancelOutcome.Released));
    }

    private async Task RedeemCouponAsync(CouponKeys pool, long orderNo)
    {
        if (couponScripts is null)
        {
            return;
        }
        try
        {
            await couponScripts.RedeemAsync(db, pool, orderNo);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // MySQL holds the truth; locked and redeemed both hold the coupon, so only the pool's label lags (the coupon reconciler relabels it).
            LogRedeemFailed(logger, ex, orderNo);
        }
    }

    private async Task MarkPaidInLedgerAsync(SkuKeys sku, long orderNo)
    {
        try
        {
            await scripts.MarkPaidAsync(db, sku, orderNo);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // MySQL holds the truth; the ledger's R and P both count as held stock, so only its label lags.
            LogMarkPaidFailed(logger, ex, orderNo);
        }
    }

    /// <summary>Cancels those of the orders that are still pending, with their log rows and counter deltas; returns them.</summary>
    private async Task<List<OrderRef>> CancelInTransactionAsync(
        MySqlConnection connection, MySqlTransaction transaction, List<long> orderNos, string reason, CancellationToken cancellationToken)
    {
        if (orderNos.Count == 0)
        {
            return [];
        }
        var pending = (await connection.QueryAsync<OrderRef>(new CommandDefinition("""
            SELECT order_no AS OrderNo, campaign_id AS CampaignId, sku_id AS SkuId, quantity AS Quantity, bucket AS Bucket, coupon_id AS CouponId FROM orders
            WHERE order_no IN @orderNos AND status = 'PendingPayment' FOR UPDATE
            """, new { orderNos }, transaction, cancellationToken: cancellationToken))).ToList();
        if (pending.Count == 0)
        {
            return pending;
        }
        var ids = pending.Select(o => o.OrderNo).ToList();
        var now = time.GetUtcNow().UtcDateTime;
        await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE orders SET status = 'Cancelled', version = version + 1, updated_at = @now WHERE order_no IN @ids;
            INSERT IGNORE INTO order_status_log (order_no, from_status, to_status, reason, created_at)
            SELECT order_no, 'PendingPayment', 'Cancelled', @reason, @now FROM orders WHERE order_no IN @ids;
            INSERT IGNORE INTO inventory_log (order_no, campaign_id, sku_id, movement, quantity, created_at)
            SELECT order_no, campaign_id, sku_id, 'release', quantity, @now FROM orders WHERE order_no IN @ids;
            INSERT INTO counter_outbox (campaign_id, sku_id, released, created_at)
            SELECT campaign_id, sku_id, SUM(quantity), @now FROM orders WHERE order_no IN @ids GROUP BY campaign_id, sku_id;
            """, new { ids, reason, now }, transaction, cancellationToken: cancellationToken));
        var couponed = pending.Where(o => o.CouponId is not null).Select(o => o.OrderNo).ToList();
        if (couponed.Count > 0)
        {
            await connection.ExecuteAsync(new CommandDefinition("""
                INSERT IGNORE INTO coupon_log (order_no, campaign_id, coupon_id, movement, created_at)
                SELECT order_no, campaign_id, coupon_id, 'release', @now FROM orders WHERE order_no IN @couponed;
                INSERT INTO coupon_counter_outbox (campaign_id, coupon_id, released, created_at)
                SELECT campaign_id, coupon_id, COUNT(*), @now FROM orders WHERE order_no IN @couponed GROUP BY campaign_id, coupon_id;
                """, new { couponed, now }, transaction, cancellationToken: cancellationToken));
        }
        return pending;
    }

    private static async Task ConfirmInTransactionAsync(
        MySqlConnection connection, MySqlTransaction transaction, long orderNo, DateTime now, CancellationToken cancellationToken)
        => await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE orders SET status = 'Paid', version = version + 1, updated_at = @now
            WHERE order_no = @orderNo AND status = 'PendingPayment';
            INSERT IGNORE INTO order_status_log (order_no, from_status, to_status, reason, created_at)
            VALUES (@orderNo, 'PendingPayment', 'Paid', 'payment-succeeded', @now);
            INSERT IGNORE INTO inventory_log (order_no, campaign_id, sku_id, movement, quantity, created_at)
            SELECT order_no, campaign_id, sku_id, 'confirm', quantity, @now FROM orders WHERE order_no = @orderNo;
            INSERT INTO counter_outbox (campaign_id, sku_id, sold, created_at)
            SELECT campaign_id, sku_id, quantity, @now FROM orders WHERE order_no = @orderNo;
            INSERT IGNORE INTO coupon_log (order_no, campaign_id, coupon_id, movement, created_at)
            SELECT order_no, campaign_id, coupon_id, 'redeem', @now FROM orders WHERE order_no = @orderNo AND coupon_id IS NOT NULL;
            INSERT INTO coupon_counter_outbox (campaign_id, coupon_id, redeemed, created_at)
            SELECT campaign_id, coupon_id, 1, @now FROM orders WHERE order_no = @orderNo AND coupon_id IS NOT NULL;
            """, new { orderNo, now }, transaction, cancellationToken: cancellationToken));

    private sealed record OrderRow(long OrderNo, string CampaignId, long SkuId, decimal Amount, string Status, int Bucket, string? CouponId);

    private sealed record PaymentDecision(PaymentOutcome Outcome, OrderRow? Order, List<OrderRef> ToRelease, bool Replayed);

    /// <param name="Bucket">The stock bucket that decided the order (0 when its SKU is not split): whose ledger holds it.</param>
    private sealed record OrderRef(long OrderNo, string CampaignId, long SkuId, int Quantity, int Bucket, string? CouponId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Order {OrderNo} is cancelled in MySQL but paid in the Redis ledger; not releasing it")]
    private static partial void LogReleaseRefused(ILogger logger, long orderNo);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Order {OrderNo} is unknown to the Redis ledger; nothing to release")]
    private static partial void LogReleaseUnknown(ILogger logger, long orderNo);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} order(s) cancelled; their stock goes back to Redis once Redis answers")]
    private static partial void LogReleaseDeferred(ILogger logger, Exception exception, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "Order {OrderNo} is cancelled in MySQL but its coupon {CouponId} is redeemed in Redis; not giving it back")]
    private static partial void LogCouponReleaseRefused(ILogger logger, long orderNo, string couponId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not redeem the coupon of order {OrderNo} in Redis")]
    private static partial void LogRedeemFailed(ILogger logger, Exception exception, long orderNo);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not mark order {OrderNo} paid in the Redis ledger")]
    private static partial void LogMarkPaidFailed(ILogger logger, Exception exception, long orderNo);
}
