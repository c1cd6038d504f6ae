using System.Diagnostics;
using System.Text;
using Dapper;
using FlashSale.Engine.Campaigns;
using FlashSale.Engine.Observability;
using FlashSale.Engine.Storage;
using MySqlConnector;

namespace FlashSale.Engine.Pipeline;

/// <summary>
/// Writes a batch of reservation events as orders: grouped by shard, each shard's part in one
/// transaction, with multi-row <c>INSERT IGNORE</c> on the unique order number, so an event that
/// arrives again is absorbed rather than doubled. Rows a transaction inserted carry its batch id;
/// the status log, the inventory log and the per-SKU counter deltas are derived from exactly
/// those rows in the same transaction, so a redelivered event never counts twice either.
/// </summary>
public sealed class OrderBatchWriter(ShardDataSources shards, EngineMetrics metrics)
{
    /// <summary>Rows per INSERT statement; 500 rows x 11 columns stays well inside packet limits.</summary>
    public const int RowsPerStatement = 500;

    /// <summary>Writes every shard's part; returns the number of orders that were new. Throws if any shard failed.</summary>
    public async Task<int> WriteAsync(IReadOnlyCollection<ReservationEvent> events, CancellationToken cancellationToken)
    {
        using var activity = metrics.ActivitySource.StartActivity("PersistBatch");
        activity?.SetTag("messaging.batch.message_count", events.Count);
        var started = Stopwatch.GetTimestamp();
        var parts = events.GroupBy(e => shards.OfOrder(e.OrderNo)).Select(g => WriteShardAsync(g.Key, [.. g], cancellationToken));
        var inserted = (await Task.WhenAll(parts)).Sum();
        metrics.BatchWritten(events.Count, Stopwatch.GetElapsedTime(started));
        activity?.SetTag("flashsale.rows_inserted", inserted);
        return inserted;
    }

    private async Task<int> WriteShardAsync(int shard, IReadOnlyList<ReservationEvent> events, CancellationToken cancellationToken)
    {
        var batchId = Random.Shared.NextInt64(1, long.MaxValue);
        await using var connection = await shards.OpenAsync(shard, cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        var inserted = 0;
        foreach (var chunk in events.Chunk(RowsPerStatement))
        {
            await using var insert = InsertOrders(connection, transaction, chunk, batchId);
            inserted += await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        if (inserted > 0)
        {
            await connection.ExecuteAsync(new CommandDefinition("""
                INSERT IGNORE INTO order_status_log (order_no, from_status, to_status, reason, created_at)
                SELECT order_no, NULL, status, 'reserved', created_at FROM orders WHERE batch_id = @batchId;

                INSERT IGNORE INTO inventory_log (order_no, campaign_id, sku_id, movement, quantity, created_at)
                SELECT order_no, campaign_id, sku_id, 'reserve', quantity, created_at FROM orders WHERE batch_id = @batchId;

                INSERT INTO counter_outbox (campaign_id, sku_id, reserved, created_at)
                SELECT campaign_id, sku_id, SUM(quantity), UTC_TIMESTAMP(3) FROM orders WHERE batch_id = @batchId
                GROUP BY campaign_id, sku_id;
                """, new { batchId }, transaction, cancellationToken: cancellationToken));
        }

        await transaction.CommitAsync(cancellationToken);

        metrics.RowsWritten(inserted, events.Count - inserted);
        // Only a part that was all new says when its orders became visible. A duplicate's row became
        // visible when its first copy was written; its createdAt would report a redelivery as lag.
        if (inserted == events.Count)
        {
            foreach (var e in events)
            {
                metrics.OrderVisible(e.CreatedAtMs);
            }
        }
        return inserted;
    }

    private static MySqlCommand InsertOrders(MySqlConnection connection, MySqlTransaction transaction, ReservationEvent[] chunk, long batchId)
    {
        var sql = new StringBuilder("""
            INSERT IGNORE INTO orders
              (order_no, user_id, campaign_id, sku_id, quantity, amount, status, payment_deadline,
               idempotency_key, created_at, updated_at, batch_id)
            VALUES
            """);
        var command = new MySqlCommand { Connection = connection, Transaction = transaction };
        command.Parameters.AddWithValue("@b", batchId);
        command.Parameters.AddWithValue("@s", OrderStatus.PendingPayment);
        for (var i = 0; i < chunk.Length; i++)
        {
            var e = chunk[i];
            sql.Append(i == 0 ? "\n(" : ",\n(")
                .Append($"@o{i}, @u{i}, @c{i}, @k{i}, @q{i}, @a{i}, @s, @d{i}, @i{i}, @t{i}, UTC_TIMESTAMP(3), @b)");
            command.Parameters.AddWithValue($"@o{i}", e.OrderNo);
            command.Parameters.AddWithValue($"@u{i}", e.UserId);
            command.Parameters.AddWithValue($"@c{i}", e.CampaignId);
            command.Parameters.AddWithValue($"@k{i}", e.SkuId);
            command.Parameters.AddWithValue($"@q{i}", e.Quantity);
            command.Parameters.AddWithValue($"@a{i}", Money.FromMinor(e.AmountMinor));
            command.Parameters.AddWithValue($"@d{i}", DateTimeOffset.FromUnixTimeMilliseconds(e.PaymentDeadlineMs).UtcDateTime);
            command.Parameters.AddWithValue($"@i{i}", e.IdempotencyKey);
            command.Parameters.AddWithValue($"@t{i}", DateTimeOffset.FromUnixTimeMilliseconds(e.CreatedAtMs).UtcDateTime);
        }
        command.CommandText = sql.ToString();
        return command;
    }
}
