using Dapper;
using FlashSale.Engine.Kafka;
using FlashSale.Engine.Persistence;
using FlashSale.Engine.Reservations;
using FlashSale.Engine.Storage;
using FlashSale.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using MySqlConnector;

namespace FlashSale.Tests.Persistence;

/// <summary>
/// The batch writer against the in-process tests' two shard databases: a shard's transaction goes to MySQL as
/// one request, and that request either commits all of it or leaves nothing, not even a lock.
/// </summary>
[Collection(IngressCollection.Name)]
public sealed class OrderBatchWriterTests(IngressFactory factory)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private ShardDataSources Shards => factory.Services.GetRequiredService<ShardDataSources>();

    private OrderBatchWriter Writer => factory.Services.GetRequiredService<OrderBatchWriter>();

    [Theory]
    // The first statement after the orders' INSERT, and the last one before COMMIT.
    [InlineData("order_status_log", "(SELECT campaign_id FROM orders WHERE order_no = NEW.order_no)")]
    [InlineData("sku_high_water", "NEW.campaign_id")]
    public async Task AStatementFailingAfterTheInsertLeavesNothingOfTheBatchAndNoLock(string table, string campaignOfRow)
    {
        var campaignId = TestSale.NewCampaignId();
        var events = NewOrders(campaignId, 40);
        var trigger = "t_fail_" + campaignId.Replace('-', '_');
        await OnEveryShardAsync(connection => connection.ExecuteAsync($"""
            CREATE TRIGGER {trigger} BEFORE INSERT ON {table} FOR EACH ROW
            BEGIN
              IF {campaignOfRow} = '{campaignId}' THEN
                SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'failing on purpose';
              END IF;
            END
            """));
        try
        {
            using var bounded = new CancellationTokenSource(Bound);
            var failure = await Assert.ThrowsAsync<MySqlException>(() => Writer.WriteAsync(events, bounded.Token));
            Assert.Contains("failing on purpose", failure.Message, StringComparison.Ordinal);
        }
        finally
        {
            await OnEveryShardAsync(connection => connection.ExecuteAsync($"DROP TRIGGER IF EXISTS {trigger}"));
        }

        Assert.Equal(new Counts(0, 0, 0, 0, 0), await CountsAsync(campaignId));
        // An insert the failed transaction still held would lock its row: a locking read would wait, then time out.
        foreach (var e in events)
        {
            await using var connection = await Shards.OpenAsync(Shards.OfOrder(e.OrderNo), CancellationToken.None);
            await connection.ExecuteAsync("SET SESSION innodb_lock_wait_timeout = 1");
            Assert.Null(await connection.QuerySingleOrDefaultAsync<long?>(
                "SELECT order_no FROM orders WHERE order_no = @orderNo FOR UPDATE", new { orderNo = e.OrderNo }));
        }

        // The same events again, on the writer's pooled sessions: every one is new, and everything derives from them.
        using (var bounded = new CancellationTokenSource(Bound))
        {
            Assert.Equal(events.Length, await Writer.WriteAsync(events, bounded.Token));
        }
        var units = events.Sum(e => e.Quantity);
        Assert.Equal(new Counts(events.Length, events.Length, events.Length, units, 1), await CountsAsync(campaignId));
    }

    [Fact]
    public async Task ABatchOfOldAndNewEventsCountsAndLogsOnlyTheNewOnes()
    {
        var campaignId = TestSale.NewCampaignId();
        // More than one INSERT of 500 rows per shard: the count adds up every statement's inserted rows.
        var first = NewOrders(campaignId, 1_300);
        var second = NewOrders(campaignId, 700);
        Assert.Equal(first.Length, await Writer.WriteAsync(first, CancellationToken.None));

        Assert.Equal(second.Length, await Writer.WriteAsync([.. first, .. second], CancellationToken.None));

        var orders = first.Length + second.Length;
        var counts = await CountsAsync(campaignId);
        Assert.Equal(new Counts(orders, orders, orders, first.Sum(e => e.Quantity) + second.Sum(e => e.Quantity), 1), counts);
        Assert.Equal(first.Concat(second).Max(e => e.Sequence), await HighWaterAsync(campaignId));
    }

    /// <summary>New orders of one SKU by new buyers, numbered as Ingress numbers them, so that both shards get some.</summary>
    private static ReservationEvent[] NewOrders(string campaignId, int count)
    {
        var numbers = new OrderNumberGenerator(Random.Shared.Next(OrderNumbers.MaxNode + 1), TimeProvider.System);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var firstUser = Random.Shared.NextInt64(1_000_000_000, 2_000_000_000);
        var firstSequence = Random.Shared.Next(1, 1_000_000);
        return [.. Enumerable.Range(0, count).Select(i => new ReservationEvent(
            ReservationEvent.CurrentVersion, numbers.Next(firstUser + i), firstUser + i, campaignId, SkuId: 7,
            Quantity: 1 + (i % 3), AmountMinor: 19_900, now, now + 900_000, $"k-{i}", Sequence: firstSequence + i))];
    }

    private async Task OnEveryShardAsync(Func<MySqlConnection, Task<int>> work)
        => await Shards.OnEveryShardAsync((connection, _) => work(connection), CancellationToken.None);

    /// <summary>The campaign's rows over both shards: orders, status log, inventory log, units counted, high-water rows.</summary>
    private async Task<Counts> CountsAsync(string campaignId)
    {
        var perShard = await Shards.OnEveryShardAsync((connection, _) => connection.QuerySingleAsync<Counts>("""
            SELECT
              (SELECT COUNT(*) FROM orders WHERE campaign_id = @campaignId) AS Orders,
              (SELECT COUNT(*) FROM order_status_log l JOIN orders o ON o.order_no = l.order_no WHERE o.campaign_id = @campaignId) AS StatusLog,
              (SELECT COUNT(*) FROM inventory_log WHERE campaign_id = @campaignId) AS InventoryLog,
              (SELECT CAST(COALESCE(SUM(reserved), 0) AS SIGNED) FROM counter_outbox WHERE campaign_id = @campaignId) AS Counted,
              (SELECT COUNT(*) FROM sku_high_water WHERE campaign_id = @campaignId) AS HighWater
            """, new { campaignId }), CancellationToken.None);
        // Every shard that holds an order of the SKU keeps its own high-water row: one on each here.
        return new Counts(perShard.Sum(c => c.Orders), perShard.Sum(c => c.StatusLog), perShard.Sum(c => c.InventoryLog),
            perShard.Sum(c => c.Counted), perShard.Max(c => c.HighWater));
    }

    private async Task<long> HighWaterAsync(string campaignId)
        => (await Shards.QueryEveryShardAsync<long>("SELECT seq FROM sku_high_water WHERE campaign_id = @campaignId", new { campaignId }, CancellationToken.None)).Max();

    private sealed record Counts(long Orders, long StatusLog, long InventoryLog, long Counted, long HighWater);
}
