using Dapper;
using FlashSale.Engine.Kafka;
using FlashSale.Engine.Persistence;
using FlashSale.Engine.Reservations;
using FlashSale.Engine.Storage;
using FlashSale.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace FlashSale.Tests.Persistence;

/// <summary>
/// The catalog's counters are fed on an interval, apart from the batches: a burst of batches is applied in
/// one round, when the interval is up, exactly once. The clock is a fake one, moved by the test.
/// </summary>
[Collection(IngressCollection.Name)]
public sealed class CounterLoopTests(IngressFactory factory)
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task ABurstOfBatchesReachesTheCountersWhenTheIntervalIsUpAndOnlyOnce()
    {
        var campaignId = TestSale.NewCampaignId();
        var shards = factory.Services.GetRequiredService<ShardDataSources>();
        var catalog = factory.Services.GetRequiredService<CatalogDataSource>();
        var writer = factory.Services.GetRequiredService<OrderBatchWriter>();
        var time = new FakeTimeProvider();
        var loop = new CounterLoop(new CounterApplier(shards, catalog), new CouponCounterApplier(shards, catalog),
            Options.Create(new PersistenceOptions { CounterIntervalMs = (int)Interval.TotalMilliseconds }), time, NullLogger<CounterLoop>.Instance);
        await loop.StartAsync(CancellationToken.None);
        try
        {
            var numbers = new OrderNumberGenerator(Random.Shared.Next(OrderNumbers.MaxNode + 1), TimeProvider.System);
            var firstUser = Random.Shared.NextInt64(1_000_000_000, 2_000_000_000);
            var units = 0;
            for (var batch = 0; batch < 10; batch++)
            {
                var events = Enumerable.Range(0, 50).Select(i => Order(numbers, campaignId, firstUser + (batch * 50) + i, quantity: 1 + (i % 2))).ToArray();
                Assert.Equal(events.Length, await writer.WriteAsync(events, CancellationToken.None));
                units += events.Sum(e => e.Quantity);
            }
            // The burst wrote its deltas; the interval is not up, so the catalog has none of them yet.
            Assert.Equal(20, await OutboxRowsAsync(shards, campaignId));
            Assert.Equal(0, await ReservedAsync(catalog, campaignId));

            time.Advance(Interval);
            await Eventually.HoldsAsync(async () => await ReservedAsync(catalog, campaignId) == units);
            await Eventually.HoldsAsync(async () => await OutboxRowsAsync(shards, campaignId) == 0);

            // Applied once: further intervals, with nothing new written, add nothing.
            for (var tick = 0; tick < 3; tick++)
            {
                time.Advance(Interval);
            }
            var after = Order(numbers, campaignId, firstUser + 10_000, quantity: 3);
            Assert.Equal(1, await writer.WriteAsync([after], CancellationToken.None));
            time.Advance(Interval);
            await Eventually.HoldsAsync(async () => await OutboxRowsAsync(shards, campaignId) == 0);
            Assert.Equal(units + 3, await ReservedAsync(catalog, campaignId));
        }
        finally
        {
            await loop.StopAsync(CancellationToken.None);
            loop.Dispose();
        }
    }

    private static ReservationEvent Order(OrderNumberGenerator numbers, string campaignId, long userId, int quantity)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        return new ReservationEvent(ReservationEvent.CurrentVersion, numbers.Next(userId), userId, campaignId, SkuId: 11,
            quantity, AmountMinor: 19_900, now, now + 900_000, $"k-{userId}", Sequence: 1);
    }

    /// <summary>The campaign's deltas still waiting in the shards: one per batch and shard that wrote some of its orders.</summary>
    private static async Task<long> OutboxRowsAsync(ShardDataSources shards, string campaignId)
        => (await shards.QueryEveryShardAsync<long>("SELECT COUNT(*) FROM counter_outbox WHERE campaign_id = @campaignId", new { campaignId }, CancellationToken.None)).Sum();

    private static async Task<long> ReservedAsync(CatalogDataSource catalog, string campaignId)
    {
        await using var connection = await catalog.OpenConnectionAsync(CancellationToken.None);
        return await connection.ExecuteScalarAsync<long?>(
            "SELECT reserved FROM campaign_sku_counters WHERE campaign_id = @campaignId AND sku_id = 11", new { campaignId }) ?? 0;
    }
}
