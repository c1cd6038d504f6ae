using System.Globalization;
using Dapper;
using FlashSale.Engine.Campaigns;
using FlashSale.Engine.Redis;
using FlashSale.Engine.Storage;
using StackExchange.Redis;

namespace FlashSale.Engine.Orders;

public sealed record OrderView(
    long OrderNo,
    long UserId,
    string CampaignId,
    long SkuId,
    int Quantity,
    decimal Amount,
    string Status,
    DateTimeOffset PaymentDeadline,
    DateTimeOffset CreatedAt,
    bool Persisted,
    string? CouponId = null,
    decimal Discount = 0);

public sealed record OrderPage(IReadOnlyList<OrderView> Items, long? NextCursor);

public sealed record PaymentView(string ProviderTxnId, long OrderNo, decimal Amount, string ProviderStatus, string Outcome, DateTimeOffset ReceivedAt);

/// <summary>
/// Reads orders. A single order has read-your-writes: from its shard when persisted, otherwise from the Redis ledger
/// of the live SKU that holds it, found by asking every live SKU's ledger for the order number (one pipelined read
/// per live SKU; a flash sale has few), so the reservation spends no write on an index of its own. A buyer's list
/// is MySQL's: an order joins it once persisted, normally within a second of its 201.
/// </summary>
public sealed class OrderQueries(ShardDataSources shards, IDatabase db)
{
    private const string Columns = """
        order_no AS OrderNo, user_id AS UserId, campaign_id AS CampaignId, sku_id AS SkuId, quantity AS Quantity,
        amount AS Amount, status AS Status, payment_deadline AS PaymentDeadline, created_at AS CreatedAt,
        coupon_id AS CouponId, discount AS Discount
        """;

    /// <param name="owner">The buyer asking; their unpersisted orders are found in Redis. Null: MySQL only.</param>
    public async Task<OrderView?> GetAsync(long orderNo, long? owner, CancellationToken cancellationToken)
    {
        await using (var connection = await shards.OpenAsync(shards.OfOrder(orderNo), cancellationToken))
        {
            var row = await connection.QuerySingleOrDefaultAsync<OrderRow>(new CommandDefinition(
                $"SELECT {Columns} FROM orders WHERE order_no = @orderNo", new { orderNo }, cancellationToken: cancellationToken));
            if (row is not null)
            {
                return row.ToView();
            }
        }
        return owner is { } userId && await FromLedgersAsync(orderNo) is { } order && order.UserId == userId ? order : null;
    }

    /// <summary>The buyer's persisted orders, newest first; <paramref name="before"/> is the previous page's cursor.</summary>
    public async Task<OrderPage> ListAsync(long userId, long? before, int limit, CancellationToken cancellationToken)
    {
        List<OrderView> rows;
        await using (var connection = await shards.OpenAsync(shards.OfUser(userId), cancellationToken))
        {
            rows = [.. (await connection.QueryAsync<OrderRow>(new CommandDefinition($"""
                SELECT {Columns} FROM orders
                WHERE user_id = @userId AND order_no < @before
                ORDER BY order_no DESC LIMIT @take
                """, new { userId, before = before ?? long.MaxValue, take = limit + 1 }, cancellationToken: cancellationToken)))
                .Select(r => r.ToView())];
        }
        var page = rows.Take(limit).ToList();
        return new OrderPage(page, rows.Count > limit ? page[^1].OrderNo : null);
    }

    /// <summary>Recorded payment callbacks with an outcome (e.g. refund-required), newest first, from every shard.</summary>
    public async Task<IReadOnlyList<PaymentView>> ListPaymentsAsync(string outcome, int limit, CancellationToken cancellationToken)
    {
        var rows = await shards.QueryEveryShardAsync<(string ProviderTxnId, long OrderNo, decimal Amount, string ProviderStatus, string Outcome, DateTime CreatedAt)>("""
            SELECT provider_txn_id, order_no, amount, provider_status, outcome, created_at FROM payments
            WHERE outcome = @outcome ORDER BY id DESC LIMIT @limit
            """, new { outcome, limit }, cancellationToken);
        var all = rows.Select(r => new PaymentView(r.ProviderTxnId, r.OrderNo, r.Amount, r.ProviderStatus, r.Outcome,
            new DateTimeOffset(DateTime.SpecifyKind(r.CreatedAt, DateTimeKind.Utc))));
        return [.. all.OrderByDescending(p => p.ReceivedAt).Take(limit)];
    }

    /// <summary>The order as the ledger of the live SKU that holds it says, or null when no live SKU does.</summary>
    private async Task<OrderView?> FromLedgersAsync(long orderNo)
    {
        var skus = await RedisKeyspace.LiveSkusAsync(db);
        var records = await Task.WhenAll(skus.Select(sku => LedgerLayout.FindAsync(db, sku, orderNo)));
        var found = Array.FindIndex(records, r => r is not null);
        if (found < 0)
        {
            return null;
        }
        // An order made with a coupon has its coupon use beside the ledger, in the SKU's coupons hash.
        var coupon = CouponUse.Parse(await db.HashGetAsync(CouponKeyspace.CouponsOf(skus[found]), orderNo) is { IsNull: false } value ? value.ToString() : null);
        return View(orderNo, skus[found], records[found]!.Value, coupon);
    }

    private static OrderView View(long orderNo, SkuKeys sku, LedgerRecord ledger, CouponUse? coupon)
        => new(orderNo, ledger.UserId, sku.CampaignId, sku.SkuId, ledger.Quantity, Money.FromMinor(ledger.AmountMinor),
            OrderStates.OfLedger(ledger.State),
            DateTimeOffset.FromUnixTimeMilliseconds(ledger.DeadlineMs), DateTimeOffset.FromUnixTimeMilliseconds(ledger.CreatedMs), Persisted: false,
            coupon?.CouponId, coupon is null ? 0 : Money.FromMinor(coupon.DiscountMinor));

    private sealed record OrderRow(
        long OrderNo, long UserId, string CampaignId, long SkuId, int Quantity, decimal Amount, string Status, DateTime PaymentDeadline, DateTime CreatedAt,
        string? CouponId, decimal Discount)
    {
        public OrderView ToView() => new(OrderNo, UserId, CampaignId, SkuId, Quantity, Amount, Status,
            new DateTimeOffset(DateTime.SpecifyKind(PaymentDeadline, DateTimeKind.Utc)),
            new DateTimeOffset(DateTime.SpecifyKind(CreatedAt, DateTimeKind.Utc)),
            Persisted: true, CouponId, Discount);
    }
}
