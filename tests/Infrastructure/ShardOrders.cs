using Dapper;
using FlashSale.Engine.Kafka;
using FlashSale.Engine.Persistence;
using FlashSale.Engine.Redis;
using FlashSale.Engine.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace FlashSale.Tests.Infrastructure;

/// <summary>Direct access to the order shards for the in-process tests, which run no Kafka pipeline.</summary>
public static class ShardOrders
{
    /// <summary>Writes the SKU's outbox events as orders with the engine's own batch writer, as the Persister would.</summary>
    /// <param name="buckets">The SKU's stock buckets: every bucket's outbox is written, each order with its bucket.</param>
    public static async Task<int> PersistAsync(IngressFactory factory, TestSale sale, int buckets = 1)
    {
        var events = new List<ReservationEvent>();
        foreach (var bucket in sale.BucketKeys(buckets))
        {
            var entries = await sale.Db.StreamRangeAsync(bucket.Outbox);
            events.AddRange(entries.SelectMany(e => ReservationRecords.Read(OutboxEntry.Read(e, bucket.Bucket).Message)));
        }
        await factory.Services.GetRequiredService<OrderBatchWriter>().WriteAsync(events, CancellationToken.None);
        return events.Count;
    }

    public static async Task<string?> StatusAsync(IngressFactory factory, long orderNo)
    {
        var shards = factory.Services.GetRequiredService<ShardDataSources>();
        await using var connection = await shards.OpenAsync(shards.OfOrder(orderNo), CancellationToken.None);
        return await connection.ExecuteScalarAsync<string?>("SELECT status FROM orders WHERE order_no = @orderNo", new { orderNo });
    }

    public static async Task<T> ScalarAsync<T>(IngressFactory factory, long orderNo, string sql)
    {
        var shards = factory.Services.GetRequiredService<ShardDataSources>();
        await using var connection = await shards.OpenAsync(shards.OfOrder(orderNo), CancellationToken.None);
        return await connection.ExecuteScalarAsync<T>(sql, new { orderNo }) ?? throw new InvalidOperationException($"No result for {orderNo}: {sql}");
    }
}
