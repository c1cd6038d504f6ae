using System.Globalization;
using Dapper;
using FlashSale.Engine.Pipeline;
using FlashSale.Engine.Redis;
using FlashSale.Engine.Reservations;
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
    bool Persisted);

public sealed record OrderPage(IReadOnlyList<OrderView> Items, long? NextCursor);

public sealed record PaymentView(string ProviderTxnId, long OrderNo, decimal Amount, string ProviderStatus, string Outcome, DateTimeOffset ReceivedAt);

/// <summary>
/// Reads orders with read-your-writes: the shard when the order is persisted, otherwise the SKU's
/// Redis ledger, found through the buyer's short-lived index of recent reservations.
/// </summary>
public sealed class OrderQueries(ShardDataSources shards, IConnectionMultiplexer redis)
{
    /// <summary>How long a buyer's recent reservations stay findable before they must be in MySQL.</summary>
    public static readonly TimeSpan RecentIndexLifetime = TimeSpan.FromDays(1);

    private const string Columns = """
        order_no AS OrderNo, user_id AS UserId, campaign_id AS CampaignId, sku_id AS SkuId, quantity AS Quantity,
        amount AS Amount, status AS Status, payment_deadline AS PaymentDeadline, created_at AS CreatedAt
        """;

    /// <summary>Hash per buyer: order number → SKU member, for orders not yet in MySQL.</summary>
    public static RedisKey RecentKey(long userId) => $"fs:u:{{{userId}}}:recent";

    /// <summary>Called after a reservation succeeded; fire-and-forget, the order is in the SKU ledger whatever happens here.</summary>
    public static void IndexRecent(IDatabase db, Reservation reservation)
    {
        var key = RecentKey(reservation.UserId);
        db.HashSet(key, reservation.OrderNo, new SkuKeys(reservation.CampaignId, reservation.SkuId).Member, flags: StackExchange.Redis.CommandFlags.FireAndForget);
        db.KeyExpire(key, RecentIndexLifetime, StackExchange.Redis.CommandFlags.FireAndForget);
    }

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
        if (owner is not { } userId)
        {
            return null;
        }
        var member = await redis.GetDatabase().HashGetAsync(RecentKey(userId), orderNo);
        return member.IsNull ? null : await FromLedgerAsync(orderNo, member.ToString());
    }

    /// <summary>The buyer's orders, newest first; <paramref name="before"/> is the previous page's cursor.</summary>
    public async Task<OrderPage> ListAsync(long userId, long? before, int limit, CancellationToken cancellationToken)
    {
        List<OrderView> persisted;
        await using (var connection = await shards.OpenAsync(shards.OfUser(userId), cancellationToken))
        {
            persisted = [.. (await connection.QueryAsync<OrderRow>(new CommandDefinition($"""
                SELECT {Columns} FROM orders
                WHERE user_id = @userId AND order_no < @before
                ORDER BY order_no DESC LIMIT @take
                """, new { userId, before = before ?? long.MaxValue, take = limit + 1 }, cancellationToken: cancellationToken)))
                .Select(r => r.ToView())];
        }

        // Reservations still on their way to MySQL belong on the first pages too. Entries of the buyer's
        // recent index that reached MySQL meanwhile are dropped from it.
        var db = redis.GetDatabase();
        var recent = (await db.HashGetAllAsync(RecentKey(userId)))
            .Select(e => (OrderNo: long.Parse(e.Name.ToString(), CultureInfo.InvariantCulture), Sku: e.Value.ToString()))
            .ToList();
        var pending = new List<OrderView>();
        if (recent.Count > 0)
        {
            HashSet<long> stored;
            await using (var connection = await shards.OpenAsync(shards.OfUser(userId), cancellationToken))
            {
                stored = [.. await connection.QueryAsync<long>(new CommandDefinition(
                    "SELECT order_no FROM orders WHERE order_no IN @ids", new { ids = recent.Select(r => r.OrderNo) }, cancellationToken: cancellationToken))];
            }
            if (stored.Count > 0)
            {
                db.HashDelete(RecentKey(userId), [.. stored.Select(o => (RedisValue)o)], StackExchange.Redis.CommandFlags.FireAndForget);
            }
            foreach (var (orderNo, sku) in recent.Where(r => !stored.Contains(r.OrderNo) && r.OrderNo < (before ?? long.MaxValue)))
            {
                if (await FromLedgerAsync(orderNo, sku) is { } order)
                {
                    pending.Add(order);
                }
            }
        }

        var merged = persisted.Concat(pending).DistinctBy(o => o.OrderNo).OrderByDescending(o => o.OrderNo).ToList();
        var page = merged.Take(limit).ToList();
        return new OrderPage(page, merged.Count > limit ? page[^1].OrderNo : null);
    }

    /// <summary>Recorded payment callbacks with an outcome (e.g. refund-required), newest first, from every shard.</summary>
    public async Task<IReadOnlyList<PaymentView>> ListPaymentsAsync(string outcome, int limit, CancellationToken cancellationToken)
    {
        var all = new List<PaymentView>();
        for (var shard = 0; shard < shards.Count; shard++)
        {
            await using var connection = await shards.OpenAsync(shard, cancellationToken);
            var rows = await connection.QueryAsync<(string ProviderTxnId, long OrderNo, decimal Amount, string ProviderStatus, string Outcome, DateTime CreatedAt)>(
                new CommandDefinition("""
                    SELECT provider_txn_id, order_no, amount, provider_status, outcome, created_at FROM payments
                    WHERE outcome = @outcome ORDER BY id DESC LIMIT @limit
                    """, new { outcome, limit }, cancellationToken: cancellationToken));
            all.AddRange(rows.Select(r => new PaymentView(r.ProviderTxnId, r.OrderNo, r.Amount, r.ProviderStatus, r.Outcome,
                new DateTimeOffset(DateTime.SpecifyKind(r.CreatedAt, DateTimeKind.Utc)))));
        }
        return [.. all.OrderByDescending(p => p.ReceivedAt).Take(limit)];
    }

    private async Task<OrderView?> FromLedgerAsync(long orderNo, string skuMember)
    {
        if (!SkuKeys.TryParseMember(skuMember, out var sku))
        {
            return null;
        }
        var record = await redis.GetDatabase().HashGetAsync(sku.Ledger, orderNo);
        if (record.IsNull)
        {
            return null;
        }
        var ledger = LedgerRecord.Parse(record.ToString());
        var reservation = ledger.ToReservation(orderNo, sku.CampaignId, sku.SkuId);
        return new OrderView(orderNo, reservation.UserId, sku.CampaignId, sku.SkuId, reservation.Quantity, reservation.Amount,
            ledger.State switch { 'P' => OrderStatus.Paid, 'C' => OrderStatus.Cancelled, _ => OrderStatus.PendingPayment },
            reservation.PaymentDeadline, reservation.CreatedAt, Persisted: false);
    }

    private sealed record OrderRow(long OrderNo, long UserId, string CampaignId, long SkuId, int Quantity, decimal Amount, string Status, DateTime PaymentDeadline, DateTime CreatedAt)
    {
        public OrderView ToView() => new(OrderNo, UserId, CampaignId, SkuId, Quantity, Amount, Status,
            new DateTimeOffset(DateTime.SpecifyKind(PaymentDeadline, DateTimeKind.Utc)),
            new DateTimeOffset(DateTime.SpecifyKind(CreatedAt, DateTimeKind.Utc)),
            Persisted: true);
    }
}
