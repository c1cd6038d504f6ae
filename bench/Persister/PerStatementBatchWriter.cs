using System.Diagnostics;
using System.Text;
using Dapper;
using FlashSale.Contracts;
using FlashSale.Engine.Campaigns;
using FlashSale.Engine.Kafka;
using FlashSale.Engine.Orders;
using FlashSale.Engine.Persistence;
using FlashSale.Engine.Storage;
using FlashSale.Engine.Telemetry;
using MySqlConnector;

namespace FlashSale.Bench.Persister;

/// <summary>
/// The engine's batch writer as it was before group commit (engine commit 381f31b), kept here only as
/// the baseline of <see cref="GroupCommitBenchmarks"/>: per shard a pooled connection, BEGIN, one
/// multi-row <c>INSERT IGNORE</c> per 500 rows, the derived status log, inventory log, counter and
/// high-water rows in one more command, then COMMIT, each its own round trip. Same rows, same
/// guarantees, same metrics as the engine's <see cref="OrderBatchWriter"/>; only the round trips differ.
/// </summary>
public sealed class PerStatementBatchWriter(ShardDataSources shards, PersistenceMetrics metrics)
{
    /// <summary>Rows per INSERT statement; 500 rows x 11 columns stays well inside packet limits.</summary>
    public const int RowsPerStatement = 500;

    /// <summary>Writes every shard's part; returns the number of orders that were new. Throws if any shard failed.</summary>
    public async Task<int> WriteAsync(IReadOnlyCollection<ReservationEvent> events, CancellationToken cancellationToken)
    {
        using var activity = EngineTelemetry.ActivitySource.StartActivity("PersistBatch");
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

                INSERT INTO sku_high_water (campaign_id, sku_id, seq, updated_at)
                SELECT campaign_id, sku_id, MAX(decision_seq), UTC_TIMESTAMP(3) FROM orders WHERE batch_id = @batchId
                GROUP BY campaign_id, sku_id
                ON DUPLICATE KEY UPDATE seq = GREATEST(seq, VALUES(seq)), updated_at = VALUES(updated_at);
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
               idempotency_key, created_at, updated_at, batch_id, decision_seq)
            VALUES
            """);
        var command = new MySqlCommand { Connection = connection, Transaction = transaction };
        command.Parameters.AddWithValue("@b", batchId);
        command.Parameters.AddWithValue("@s", OrderStatus.PendingPayment);
        for (var i = 0; i < chunk.Length; i++)
        {
            var e = chunk[i];
            sql.Append(i == 0 ? "\n(" : ",\n(")
                .Append($"@o{i}, @u{i}, @c{i}, @k{i}, @q{i}, @a{i}, @s, @d{i}, @i{i}, @t{i}, UTC_TIMESTAMP(3), @b, @n{i})");
            command.Parameters.AddWithValue($"@o{i}", e.OrderNo);
            command.Parameters.AddWithValue($"@u{i}", e.UserId);
            command.Parameters.AddWithValue($"@c{i}", e.CampaignId);
            command.Parameters.AddWithValue($"@k{i}", e.SkuId);
            command.Parameters.AddWithValue($"@q{i}", e.Quantity);
            command.Parameters.AddWithValue($"@a{i}", Money.FromMinor(e.AmountMinor));
            command.Parameters.AddWithValue($"@d{i}", DateTimeOffset.FromUnixTimeMilliseconds(e.PaymentDeadlineMs).UtcDateTime);
            command.Parameters.AddWithValue($"@i{i}", e.IdempotencyKey);
            command.Parameters.AddWithValue($"@t{i}", DateTimeOffset.FromUnixTimeMilliseconds(e.CreatedAtMs).UtcDateTime);
            command.Parameters.AddWithValue($"@n{i}", e.Sequence);
        }
        command.CommandText = sql.ToString();
        return command;
    }
}
