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
    bool Persisted);

public sealed record OrderPage(IReadOnlyList<OrderView> Items, long? NextCursor);

public sealed record PaymentView(string ProviderTxnId, long OrderNo, decimal Amount, string ProviderStatus, string Outcome, DateTimeOffset ReceivedAt);

/// <summary>
/// Reads orders with read-your-writes: the shard when the order is persisted, otherwise the SKU's
/// Redis ledger, found through what the reservation script itself wrote: each live SKU keeps, beside a buyer's
/// purchase count, the buyer's order numbers (field <c>o:userId</c> of its users hash), so no write per order is
/// spent on an index of its own. A lookup costs one read per live SKU (a flash sale has few), pipelined.
/// </summary>
public sealed class OrderQueries(ShardDataSources shards, IConnectionMultiplexer redis)
{
    private const string Columns = """
        order_no AS OrderNo, user_id AS UserId, campaign_id AS CampaignId, sku_id AS SkuId, quantity AS Quantity,
        amount AS Amount, status AS Status, payment_deadline AS PaymentDeadline, created_at AS CreatedAt
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
        if (owner is not { } userId)
        {
            return null;
        }
        var candidate = (await RecentAsync(userId)).FirstOrDefault(r => r.OrderNo == orderNo);
        return candidate.Sku is { } sku && await FromLedgerAsync(orderNo, sku) is { } order && order.UserId == userId ? order : null;
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

        // Reservations still on their way to MySQL belong on the first pages too.
        var recent = (await RecentAsync(userId)).Where(r => r.OrderNo < (before ?? long.MaxValue)).ToList();
        var pending = new List<OrderView>();
        if (recent.Count > 0)
        {
            HashSet<long> stored;
            await using (var connection = await shards.OpenAsync(shards.OfUser(userId), cancellationToken))
            {
                stored = [.. await connection.QueryAsync<long>(new CommandDefinition(
                    "SELECT order_no FROM orders WHERE order_no IN @ids", new { ids = recent.Select(r => r.OrderNo) }, cancellationToken: cancellationToken))];
            }
            foreach (var (orderNo, sku) in recent.Where(r => !stored.Contains(r.OrderNo)))
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
        var rows = await shards.QueryEveryShardAsync<(string ProviderTxnId, long OrderNo, decimal Amount, string ProviderStatus, string Outcome, DateTime CreatedAt)>("""
            SELECT provider_txn_id, order_no, amount, provider_status, outcome, created_at FROM payments
            WHERE outcome = @outcome ORDER BY id DESC LIMIT @limit
            """, new { outcome, limit }, cancellationToken);
        var all = rows.Select(r => new PaymentView(r.ProviderTxnId, r.OrderNo, r.Amount, r.ProviderStatus, r.Outcome,
            new DateTimeOffset(DateTime.SpecifyKind(r.CreatedAt, DateTimeKind.Utc))));
        return [.. all.OrderByDescending(p => p.ReceivedAt).Take(limit)];
    }

    /// <summary>The buyer's orders in the live SKUs' Redis ledgers (persisted or not), newest SKUs' reads pipelined.</summary>
    private async Task<List<(long OrderNo, SkuKeys Sku)>> RecentAsync(long userId)
    {
        var db = redis.GetDatabase();
        var skus = new List<SkuKeys>();
        foreach (var member in await db.SetMembersAsync(RedisKeyspace.LiveSkus))
        {
            if (SkuKeys.TryParseMember(member.ToString(), out var sku))
            {
                skus.Add(sku);
            }
        }
        var field = SkuKeys.BuyerOrdersField(userId);
        var lists = await Task.WhenAll(skus.Select(sku => db.HashGetAsync(sku.Users, field)));
        var found = new List<(long, SkuKeys)>();
        for (var i = 0; i < skus.Count; i++)
        {
            if (lists[i].IsNull)
            {
                continue;
            }
            foreach (var orderNo in lists[i].ToString().Split(','))
            {
                found.Add((long.Parse(orderNo, CultureInfo.InvariantCulture), skus[i]));
            }
        }
        return found;
    }

    private async Task<OrderView?> FromLedgerAsync(long orderNo, SkuKeys sku)
    {
        var record = await redis.GetDatabase().HashGetAsync(sku.Ledger, orderNo);
        if (record.IsNull)
        {
            return null;
        }
        var ledger = LedgerRecord.Parse(record.ToString());
        return new OrderView(orderNo, ledger.UserId, sku.CampaignId, sku.SkuId, ledger.Quantity, Money.FromMinor(ledger.AmountMinor),
            OrderStates.OfLedger(ledger.State),
            DateTimeOffset.FromUnixTimeMilliseconds(ledger.DeadlineMs), DateTimeOffset.FromUnixTimeMilliseconds(ledger.CreatedMs), Persisted: false);
    }

    private sealed record OrderRow(long OrderNo, long UserId, string CampaignId, long SkuId, int Quantity, decimal Amount, string Status, DateTime PaymentDeadline, DateTime CreatedAt)
    {
        public OrderView ToView() => new(OrderNo, UserId, CampaignId, SkuId, Quantity, Amount, Status,
            new DateTimeOffset(DateTime.SpecifyKind(PaymentDeadline, DateTimeKind.Utc)),
            new DateTimeOffset(DateTime.SpecifyKind(CreatedAt, DateTimeKind.Utc)),
            Persisted: true);
    }
}
