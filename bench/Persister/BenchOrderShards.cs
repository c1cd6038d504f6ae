using System.Security.Cryptography;
using Dapper;
using FlashSale.Bench.Infrastructure;
using FlashSale.Contracts;
using FlashSale.Engine.Campaigns;
using FlashSale.Engine.Kafka;
using FlashSale.Engine.Orders;
using FlashSale.Engine.Reservations;
using FlashSale.Engine.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using MySqlConnector;

namespace FlashSale.Bench.Persister;

/// <summary>
/// Two order shard databases of the bench's own (<see cref="Databases"/>), migrated with the engine's
/// shard schema, and the orders of one bench campaign written into them. Orders come from new buyers
/// with consecutive ids, numbered by the engine's <see cref="OrderNumberGenerator"/>, so their logical
/// shards (user id % 64) and with them the two databases are mixed as in production.
/// </summary>
public sealed class BenchOrderShards : IAsyncDisposable
{
    public static readonly IReadOnlyList<string> Databases = ["flashsale_bench_shard_0", "flashsale_bench_shard_1"];

    // A flash sale is a few SKUs: enough for the batch writer to write one counter row per SKU and shard.
    private const int Skus = 4;
    private const long PriceMinor = 19_900;
    private const long PaymentWindowMs = 600_000;
    // As long as the client-chosen keys Ingress accepts usually are (a UUID); one string for all orders,
    // so that both sides send the same bytes and neither allocates it.
    private const string IdempotencyKey = "0b8f3c52-7d1e-4a90-9c6b-3f2e1d0a5b77";

    // Deleting a whole run's rows in one statement would hold one huge transaction; chunks keep it short.
    private const int RowsPerDelete = 10_000;

    private const string InsertOneSql = """
        INSERT INTO orders
          (order_no, user_id, campaign_id, sku_id, quantity, amount, status, payment_deadline,
           idempotency_key, created_at, updated_at, batch_id)
        VALUES (@o, @u, @c, @k, @q, @a, @s, @d, @i, @t, UTC_TIMESTAMP(3), @b)
        """;

    private readonly OrderNumberGenerator _orderNumbers;
    private long _lastUserId;
    private long _written;

    private BenchOrderShards(ShardDataSources shards, string campaignId)
    {
        Shards = shards;
        CampaignId = campaignId;
        // A node id of its own per run, so that two runs at once rarely hand out the same order number.
        _orderNumbers = new OrderNumberGenerator(RandomNumberGenerator.GetInt32(OrderNumbers.MaxNode + 1), TimeProvider.System);
    }

    public ShardDataSources Shards { get; }

    public string CampaignId { get; }

    /// <summary>Orders that a write reported inserted.</summary>
    public long Written => Volatile.Read(ref _written);

    /// <param name="connectionsPerShard">Pool size of each shard, all opened before measuring.</param>
    public static async Task<BenchOrderShards> StartAsync(int connectionsPerShard, CancellationToken cancellationToken = default)
    {
        await LocalServices.RequireDurableMariaDbAsync(cancellationToken);
        var connectionStrings = Databases.Select(d => LocalServices.MariaDb(d, (uint)connectionsPerShard)).ToList();
        foreach (var connectionString in connectionStrings)
        {
            await SchemaMigrator.MigrateAsync(connectionString, ShardDataSources.SchemaKind, NullLogger.Instance, cancellationToken);
        }

        var shards = new ShardDataSources(connectionStrings);
        // Open every pool now, so that no measured write pays for a TCP connect and a login.
        for (var shard = 0; shard < shards.Count; shard++)
        {
            var opened = new List<MySqlConnection>();
            for (var i = 0; i < connectionsPerShard; i++)
            {
                opened.Add(await shards.OpenAsync(shard, cancellationToken));
            }
            foreach (var connection in opened)
            {
                await connection.DisposeAsync();
            }
        }
        return new BenchOrderShards(shards, "bench-" + RandomNumberGenerator.GetHexString(12, lowercase: true));
    }

    /// <summary>Reservation events for <paramref name="count"/> orders that no shard holds yet, each by a new buyer.</summary>
    public ReservationEvent[] NewOrders(int count)
    {
        var now = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
        var events = new ReservationEvent[count];
        for (var i = 0; i < events.Length; i++)
        {
            var userId = ++_lastUserId;
            events[i] = new ReservationEvent(
                ReservationEvent.CurrentVersion,
                _orderNumbers.Next(userId),
                userId,
                CampaignId,
                SkuId: 1 + (userId % Skus),
                Quantity: 1,
                PriceMinor,
                now,
                now + PaymentWindowMs,
                IdempotencyKey);
        }
        return events;
    }

    /// <summary>Counts orders a write reported inserted; throws when it is not all of them.</summary>
    public void CountWritten(int inserted, int expected)
    {
        // Fewer means duplicates or lost rows: their speed is not the speed of writing new orders.
        if (inserted != expected)
        {
            throw new InvalidOperationException($"The write inserted {inserted} of {expected} new orders.");
        }
        Interlocked.Add(ref _written, inserted);
    }

    /// <summary>
    /// The naive way: every order its own <c>INSERT INTO orders</c>, committed on its own (autocommit),
    /// into the shard its number routes to. Each shard's orders go one after another over one pooled
    /// connection, the shards at the same time, as the batch writer does them.
    /// </summary>
    public async Task<int> InsertOneByOneAsync(IReadOnlyCollection<ReservationEvent> events, CancellationToken cancellationToken)
    {
        var parts = events.GroupBy(e => Shards.OfOrder(e.OrderNo)).Select(g => InsertOneByOneAsync(g.Key, [.. g], cancellationToken));
        return (await Task.WhenAll(parts)).Sum();
    }

    private async Task<int> InsertOneByOneAsync(int shard, IReadOnlyList<ReservationEvent> events, CancellationToken cancellationToken)
    {
        await using var connection = await Shards.OpenAsync(shard, cancellationToken);
        // One command with its parameters reused for every row: the least client work a row-at-a-time
        // writer can do, so the comparison measures round trips and commits, not allocations.
        await using var command = new MySqlCommand(InsertOneSql, connection);
        var orderNo = command.Parameters.Add("@o", MySqlDbType.Int64);
        var userId = command.Parameters.Add("@u", MySqlDbType.Int64);
        var campaignId = command.Parameters.Add("@c", MySqlDbType.VarChar);
        var skuId = command.Parameters.Add("@k", MySqlDbType.Int64);
        var quantity = command.Parameters.Add("@q", MySqlDbType.Int32);
        var amount = command.Parameters.Add("@a", MySqlDbType.NewDecimal);
        var deadline = command.Parameters.Add("@d", MySqlDbType.DateTime);
        var idempotencyKey = command.Parameters.Add("@i", MySqlDbType.VarChar);
        var createdAt = command.Parameters.Add("@t", MySqlDbType.DateTime);
        command.Parameters.AddWithValue("@s", OrderStatus.PendingPayment);
        command.Parameters.AddWithValue("@b", Random.Shared.NextInt64(1, long.MaxValue));

        var inserted = 0;
        foreach (var e in events)
        {
            orderNo.Value = e.OrderNo;
            userId.Value = e.UserId;
            campaignId.Value = e.CampaignId;
            skuId.Value = e.SkuId;
            quantity.Value = e.Quantity;
            amount.Value = Money.FromMinor(e.AmountMinor);
            deadline.Value = DateTimeOffset.FromUnixTimeMilliseconds(e.PaymentDeadlineMs).UtcDateTime;
            idempotencyKey.Value = e.IdempotencyKey;
            createdAt.Value = DateTimeOffset.FromUnixTimeMilliseconds(e.CreatedAtMs).UtcDateTime;
            inserted += await command.ExecuteNonQueryAsync(cancellationToken);
        }
        return inserted;
    }

    /// <summary>
    /// Throws unless the shards hold exactly the orders counted as written, each in the shard its number
    /// routes to, both shards some, and (<paramref name="withLogs"/>) the batch writer's status log,
    /// inventory log and counter rows for every one of them, or none of those otherwise.
    /// </summary>
    public async Task VerifyAsync(bool withLogs, CancellationToken cancellationToken = default)
    {
        long orders = 0;
        for (var shard = 0; shard < Shards.Count; shard++)
        {
            await using var connection = await Shards.OpenAsync(shard, cancellationToken);
            var counts = await connection.QuerySingleAsync<ShardCounts>(new CommandDefinition("""
                SELECT
                  (SELECT COUNT(*) FROM orders WHERE campaign_id = @c) AS Orders,
                  (SELECT COUNT(*) FROM orders WHERE campaign_id = @c AND MOD(order_no & 63, @count) <> @shard) AS Misrouted,
                  (SELECT COUNT(*) FROM order_status_log l JOIN orders o ON o.order_no = l.order_no WHERE o.campaign_id = @c) AS StatusLog,
                  (SELECT COUNT(*) FROM inventory_log WHERE campaign_id = @c) AS InventoryLog,
                  (SELECT CAST(COALESCE(SUM(reserved), 0) AS SIGNED) FROM counter_outbox WHERE campaign_id = @c) AS Counted
                """, new { c = CampaignId, count = Shards.Count, shard }, cancellationToken: cancellationToken));
            var logs = withLogs ? counts.Orders : 0;
            if (counts.Orders == 0 || counts.Misrouted != 0 || counts.StatusLog != logs || counts.InventoryLog != logs || counts.Counted != logs)
            {
                throw new InvalidOperationException($"Shard {shard} holds {counts} for {CampaignId}; expected some orders, none misrouted, and {logs} of each log.");
            }
            orders += counts.Orders;
        }
        if (orders != Written)
        {
            throw new InvalidOperationException($"The shards hold {orders} orders of {CampaignId}; {Written} were written.");
        }
    }

    /// <summary>Deletes the campaign's rows from both shards, so that runs do not pile up in the tables.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            for (var shard = 0; shard < Shards.Count; shard++)
            {
                await using var connection = await Shards.OpenAsync(shard, CancellationToken.None);
                var parameters = new { c = CampaignId, take = RowsPerDelete };
                // The status log names its orders only by number: it goes while the orders are still there.
                await DeleteInChunksAsync(connection,
                    "DELETE FROM order_status_log WHERE order_no IN (SELECT order_no FROM orders WHERE campaign_id = @c) LIMIT @take", parameters);
                await DeleteInChunksAsync(connection, "DELETE FROM inventory_log WHERE campaign_id = @c LIMIT @take", parameters);
                await DeleteInChunksAsync(connection, "DELETE FROM counter_outbox WHERE campaign_id = @c LIMIT @take", parameters);
                await DeleteInChunksAsync(connection, "DELETE FROM orders WHERE campaign_id = @c LIMIT @take", parameters);
            }
        }
        finally
        {
            await Shards.DisposeAsync();
        }
    }

    private static async Task DeleteInChunksAsync(MySqlConnection connection, string sql, object parameters)
    {
        while (await connection.ExecuteAsync(sql, parameters) > 0)
        {
        }
    }

    private sealed record ShardCounts(long Orders, long Misrouted, long StatusLog, long InventoryLog, long Counted);
}
