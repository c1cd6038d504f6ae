using System.Diagnostics;
using System.Text;
using FlashSale.Engine.Campaigns;
using FlashSale.Engine.Kafka;
using FlashSale.Engine.Orders;
using FlashSale.Engine.Storage;
using FlashSale.Engine.Telemetry;
using MySqlConnector;

namespace FlashSale.Engine.Persistence;

/// <summary>
/// Writes a batch of reservation events as orders: grouped by shard, each shard's part in one
/// transaction, with multi-row <c>INSERT IGNORE</c> on the unique order number, so an event that
/// arrives again is absorbed rather than doubled. Rows a transaction inserted carry its batch id;
/// the status log, the inventory log, the per-SKU counter deltas and the SKU's high-water mark are
/// derived from exactly those rows in the same transaction, so a redelivered event never counts twice.
/// </summary>
/// <remarks>
/// A shard's whole transaction — START TRANSACTION, the inserts, the derived rows, COMMIT — travels as
/// one <see cref="MySqlBatch"/>: one request and one reply, where a transaction of separate commands
/// waits for the server four or more times. MySQL stops a multi-statement request at its first failing
/// statement, so COMMIT runs only after every statement before it succeeded; what a failed request
/// left open is rolled back at once (<see cref="RollBackAsync"/>), and every request begins with a
/// ROLLBACK so that a transaction a lost connection could not roll back is never committed by the next.
/// Connections come from pools of the writer's own that skip MySqlConnector's reset on open, which would
/// cost one more round trip per batch: this writer leaves nothing else on a session. The request is one
/// packet of about 250 bytes per order (a batch of 10,000 into one shard: 2.5 MB), so the server's
/// <c>max_allowed_packet</c> (16 MB by default) bounds <see cref="PersistenceOptions.BatchSize"/>.
/// </remarks>
public sealed class OrderBatchWriter : IAsyncDisposable
{
    /// <summary>Rows per INSERT statement: the statement's text and its 16 parameters a row stay small for the parser.</summary>
    public const int RowsPerStatement = 500;

    private const string ValuesRow = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(3), ?, ?, ?, ?, ?, ?)";

    private const string InsertPrefix = """
        INSERT IGNORE INTO orders
          (order_no, user_id, campaign_id, sku_id, quantity, amount, status, payment_deadline,
           idempotency_key, created_at, updated_at, batch_id, decision_seq, bucket, coupon_id, discount, coupon_seq)
        VALUES
        """;

    /// <summary>
    /// Every statement that derives from the rows this transaction inserted, each with the batch id as its
    /// only parameter. None inserts anything when every order was a duplicate.
    /// </summary>
    private static readonly string[] Derived =
    [
        """
        INSERT IGNORE INTO order_status_log (order_no, from_status, to_status, reason, created_at)
        SELECT order_no, NULL, status, 'reserved', created_at FROM orders WHERE batch_id = ?
        """,
        """
        INSERT IGNORE INTO inventory_log (order_no, campaign_id, sku_id, movement, quantity, created_at)
        SELECT order_no, campaign_id, sku_id, 'reserve', quantity, created_at FROM orders WHERE batch_id = ?
        """,
        """
        INSERT INTO counter_outbox (campaign_id, sku_id, reserved, created_at)
        SELECT campaign_id, sku_id, SUM(quantity), UTC_TIMESTAMP(3) FROM orders WHERE batch_id = ?
        GROUP BY campaign_id, sku_id
        """,
        """
        INSERT INTO sku_high_water (campaign_id, sku_id, bucket, seq, updated_at)
        SELECT campaign_id, sku_id, bucket, MAX(decision_seq), UTC_TIMESTAMP(3) FROM orders WHERE batch_id = ?
        GROUP BY campaign_id, sku_id, bucket
        ON DUPLICATE KEY UPDATE seq = GREATEST(seq, VALUES(seq)), updated_at = VALUES(updated_at)
        """,
    ];

    /// <summary>
    /// What a part with orders made with coupons derives besides (each with the batch id as its only parameter): the coupon
    /// log's lock rows, the pools' counter deltas and their high-water marks. Left out of a part without any.
    /// </summary>
    private static readonly string[] CouponDerived =
    [
        """
        INSERT IGNORE INTO coupon_log (order_no, campaign_id, coupon_id, movement, created_at)
        SELECT order_no, campaign_id, coupon_id, 'lock', created_at FROM orders WHERE batch_id = ? AND coupon_id IS NOT NULL
        """,
        """
        INSERT INTO coupon_counter_outbox (campaign_id, coupon_id, locked, created_at)
        SELECT campaign_id, coupon_id, COUNT(*), UTC_TIMESTAMP(3) FROM orders WHERE batch_id = ? AND coupon_id IS NOT NULL
        GROUP BY campaign_id, coupon_id
        """,
        """
        INSERT INTO coupon_high_water (campaign_id, coupon_id, seq, updated_at)
        SELECT campaign_id, coupon_id, MAX(coupon_seq), UTC_TIMESTAMP(3) FROM orders WHERE batch_id = ? AND coupon_id IS NOT NULL
        GROUP BY campaign_id, coupon_id
        ON DUPLICATE KEY UPDATE seq = GREATEST(seq, VALUES(seq)), updated_at = VALUES(updated_at)
        """,
    ];

    // The INSERT of a full chunk, built once; a shorter chunk's text is a prefix of it.
    private static readonly string FullInsert = InsertText(RowsPerStatement);

    private readonly ShardDataSources _shards;
    private readonly PersistenceMetrics _metrics;
    private readonly MySqlDataSource[] _sources;

    public OrderBatchWriter(ShardDataSources shards, PersistenceMetrics metrics)
    {
        _shards = shards;
        _metrics = metrics;
        _sources = [.. shards.ConnectionStrings.Select(cs => new MySqlDataSource(
            new MySqlConnectionStringBuilder(cs) { ConnectionReset = false }.ConnectionString))];
    }

    /// <summary>Writes every shard's part; returns the number of orders that were new. Throws if any shard failed.</summary>
    public async Task<int> WriteAsync(IReadOnlyCollection<ReservationEvent> events, CancellationToken cancellationToken)
    {
        using var activity = EngineTelemetry.ActivitySource.StartActivity("PersistBatch");
        activity?.SetTag("messaging.batch.message_count", events.Count);
        var started = Stopwatch.GetTimestamp();
        var parts = events.GroupBy(e => _shards.OfOrder(e.OrderNo)).Select(g => WriteShardAsync(g.Key, [.. g], cancellationToken));
        var inserted = (await Task.WhenAll(parts)).Sum();
        _metrics.BatchWritten(events.Count, Stopwatch.GetElapsedTime(started));
        activity?.SetTag("flashsale.rows_inserted", inserted);
        return inserted;
    }

    private async Task<int> WriteShardAsync(int shard, ReservationEvent[] events, CancellationToken cancellationToken)
    {
        var batchId = Random.Shared.NextInt64(1, long.MaxValue);
        await using var connection = await _sources[shard].OpenConnectionAsync(cancellationToken);
        await using var batch = Transaction(connection, events, batchId);

        var inserted = 0;
        var committed = false;
        try
        {
            await using (var reader = await batch.ExecuteReaderAsync(cancellationToken))
            {
                // Every statement's outcome is read, so that an error in any of them surfaces here. The only
                // rows are those of the SELECT ROW_COUNT() after each INSERT: the orders it inserted.
                do
                {
                    while (await reader.ReadAsync(cancellationToken))
                    {
                        inserted += checked((int)reader.GetInt64(0));
                    }
                }
                while (await reader.NextResultAsync(cancellationToken));
            }
            committed = true;
        }
        finally
        {
            if (!committed)
            {
                await RollBackAsync(connection);
            }
        }

        _metrics.RowsWritten(inserted, events.Length - inserted);
        // Only a part that was all new says when its orders became visible. A duplicate's row became
        // visible when its first copy was written; its createdAt would report a redelivery as lag.
        if (inserted == events.Length)
        {
            foreach (var e in events)
            {
                _metrics.OrderVisible(e.CreatedAtMs);
            }
        }
        return inserted;
    }

    /// <summary>ROLLBACK, START TRANSACTION, the INSERTs of the orders each with its row count, the derived rows, COMMIT.</summary>
    private static MySqlBatch Transaction(MySqlConnection connection, ReservationEvent[] events, long batchId)
    {
        var batch = new MySqlBatch(connection);
        batch.BatchCommands.Add(new MySqlBatchCommand("ROLLBACK"));
        batch.BatchCommands.Add(new MySqlBatchCommand("START TRANSACTION"));
        foreach (var chunk in events.Chunk(RowsPerStatement))
        {
            batch.BatchCommands.Add(InsertOrders(chunk, batchId));
            // For INSERT IGNORE, the rows inserted: a duplicate order number is skipped and not counted.
            batch.BatchCommands.Add(new MySqlBatchCommand("SELECT ROW_COUNT()"));
        }
        var derivedStatements = events.Any(e => e.CouponId is not null) ? Derived.Concat(CouponDerived) : Derived;
        foreach (var sql in derivedStatements)
        {
            var derived = new MySqlBatchCommand(sql);
            derived.Parameters.Add(new MySqlParameter { Value = batchId });
            batch.BatchCommands.Add(derived);
        }
        batch.BatchCommands.Add(new MySqlBatchCommand("COMMIT"));
        return batch;
    }

    private static MySqlBatchCommand InsertOrders(ReservationEvent[] chunk, long batchId)
    {
        var command = new MySqlBatchCommand(chunk.Length == RowsPerStatement ? FullInsert : FullInsert[..InsertLength(chunk.Length)]);
        // Positional parameters: MySqlConnector binds them by index, where every named one costs a name lookup.
        var parameters = command.Parameters;
        object boxedBatchId = batchId;
        foreach (var e in chunk)
        {
            parameters.Add(new MySqlParameter { Value = e.OrderNo });
            parameters.Add(new MySqlParameter { Value = e.UserId });
            parameters.Add(new MySqlParameter { Value = e.CampaignId });
            parameters.Add(new MySqlParameter { Value = e.SkuId });
            parameters.Add(new MySqlParameter { Value = e.Quantity });
            parameters.Add(new MySqlParameter { Value = Money.FromMinor(e.AmountMinor) });
            parameters.Add(new MySqlParameter { Value = OrderStatus.PendingPayment });
            parameters.Add(new MySqlParameter { Value = DateTimeOffset.FromUnixTimeMilliseconds(e.PaymentDeadlineMs).UtcDateTime });
            parameters.Add(new MySqlParameter { Value = e.IdempotencyKey });
            parameters.Add(new MySqlParameter { Value = DateTimeOffset.FromUnixTimeMilliseconds(e.CreatedAtMs).UtcDateTime });
            parameters.Add(new MySqlParameter { Value = boxedBatchId });
            parameters.Add(new MySqlParameter { Value = e.Sequence });
            parameters.Add(new MySqlParameter { Value = e.Bucket });
            parameters.Add(new MySqlParameter { Value = (object?)e.CouponId ?? DBNull.Value });
            parameters.Add(new MySqlParameter { Value = Money.FromMinor(e.DiscountMinor) });
            parameters.Add(new MySqlParameter { Value = e.CouponSequence });
        }
        return command;
    }

    private static string InsertText(int rows)
    {
        var sql = new StringBuilder(InsertPrefix, InsertLength(rows));
        for (var i = 0; i < rows; i++)
        {
            sql.Append(i == 0 ? "\n" : ",\n").Append(ValuesRow);
        }
        return sql.ToString();
    }

    /// <summary>The prefix, "\n" and the first row, then ",\n" and a row for every further one.</summary>
    private static int InsertLength(int rows) => InsertPrefix.Length + 1 + ValuesRow.Length + ((rows - 1) * (ValuesRow.Length + 2));

    /// <summary>
    /// Ends what a failed request left open, so its row locks go now and no later request commits it.
    /// Not cancellable: it is what makes a cancelled write leave nothing behind. When it fails too, the
    /// connection is gone, and the server rolled back with it (or the next request's ROLLBACK does).
    /// </summary>
    private static async Task RollBackAsync(MySqlConnection connection)
    {
        try
        {
            await using var rollback = new MySqlCommand("ROLLBACK", connection);
            await rollback.ExecuteNonQueryAsync(CancellationToken.None);
        }
        catch (MySqlException)
        {
        }
        catch (InvalidOperationException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var source in _sources)
        {
            await source.DisposeAsync();
        }
    }
}
