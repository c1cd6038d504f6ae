using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using FlashSale.Tests.Infrastructure;

namespace FlashSale.Tests.Pipeline;

public sealed record Success(long OrderNo, long UserId, long SkuId, int Quantity);

/// <summary>
/// Buyers reserving over real HTTP against the Ingress process, as many at once as <c>parallelism</c>. A buyer answered
/// 503 retries with the same Idempotency-Key, as a real client should, until the reservation is acknowledged (a 200 replay
/// is the same order); with <c>retryUnavailable</c> false it gives up instead, and only acknowledged orders count.
/// </summary>
public static class SaleTraffic
{
    private static readonly TimeSpan RetryFor = TimeSpan.FromSeconds(120);

    public static async Task<List<Success>> ReserveAsync(
        PipelineFixture engine, string campaignId, IReadOnlyList<long> skus, int attempts, int buyers, int parallelism = 64, int firstBuyer = 10_000,
        bool retryUnavailable = true)
    {
        var successes = new ConcurrentBag<Success>();
        var clients = new ConcurrentDictionary<long, HttpClient>();
        var next = -1;
        // As many buyers at once as asked: the default degree is the processor count, which would let a slow answer
        // (a 503 after the durable-ack deadline) throttle the whole sale.
        await Parallel.ForEachAsync(Enumerable.Range(0, parallelism), new ParallelOptions { MaxDegreeOfParallelism = parallelism }, async (_, _) =>
        {
            int attempt;
            while ((attempt = Interlocked.Increment(ref next)) < attempts)
            {
                var userId = firstBuyer + attempt % buyers;
                var skuId = skus[attempt % skus.Count];
                var quantity = 1 + attempt % 2;
                var client = clients.GetOrAdd(userId, id => engine.Client(engine.Tokens.Mint(id)));
                var path = $"/api/v1/campaigns/{campaignId}/skus/{skuId}/reservations";
                var body = $$"""{"quantity":{{quantity}}}""";
                var response = await TestSale.SendReservationAsync(client, path, $"attempt-{attempt}", body);
                var giveUp = DateTime.UtcNow + RetryFor;
                while (response.StatusCode == HttpStatusCode.ServiceUnavailable && retryUnavailable && DateTime.UtcNow < giveUp)
                {
                    response.Dispose();
                    await Task.Delay(250, CancellationToken.None);
                    response = await TestSale.SendReservationAsync(client, path, $"attempt-{attempt}", body);
                }
                using var answer = response;
                if (response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK)
                {
                    var orderNo = long.Parse((await response.JsonAsync()).GetProperty("orderNo").GetString()!, CultureInfo.InvariantCulture);
                    successes.Add(new Success(orderNo, userId, skuId, quantity));
                }
                else if (response.StatusCode != HttpStatusCode.ServiceUnavailable || retryUnavailable)
                {
                    Assert.True(response.StatusCode == HttpStatusCode.Conflict,
                        $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync(CancellationToken.None)}");
                }
            }
        });
        foreach (var client in clients.Values)
        {
            client.Dispose();
        }
        return [.. successes];
    }

    /// <summary>Exactly one row per success, in the shard its order number names, and nothing else.</summary>
    public static void AssertExactlyOneRowEach(PipelineFixture engine, IReadOnlyCollection<Success> successes, IReadOnlyCollection<OrderRow> rows)
    {
        Assert.Equal(successes.Count, rows.Count);
        Assert.Equal(rows.Count, rows.Select(r => r.OrderNo).Distinct().Count());
        var expected = successes.ToDictionary(s => s.OrderNo);
        Assert.All(rows, row =>
        {
            Assert.True(expected.TryGetValue(row.OrderNo, out var success), $"order {row.OrderNo} was never acknowledged");
            Assert.Equal(engine.Shards.OfOrder(row.OrderNo), row.Shard);
            Assert.Equal(engine.Shards.OfUser(row.UserId), row.Shard);
            Assert.Equal(success!.UserId, row.UserId);
            Assert.Equal(success.SkuId, row.SkuId);
            Assert.Equal(success.Quantity, row.Quantity);
            Assert.Equal(12.50m * success.Quantity, row.Amount);
            Assert.Equal("PendingPayment", row.Status);
        });
    }
}
