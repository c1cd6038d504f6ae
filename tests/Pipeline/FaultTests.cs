using System.Net;
using FlashSale.Engine.Redis;
using FlashSale.Engine.Relay;
using FlashSale.Tests.Infrastructure;
using StackExchange.Redis;

namespace FlashSale.Tests.Pipeline;

/// <summary>Processes killed and Kafka failing under a running sale: nothing acknowledged is lost, nothing is doubled.</summary>
[Collection(PipelineCollection.Name)]
[Trait("Category", "Slow")]
public sealed class FaultTests(PipelineFixture engine) : IClassFixture<PipelineFixture>
{
    [Fact]
    public async Task PersisterKilledMidBatchesThenRestartedStillWritesExactlyOneRowEach()
    {
        long[] skus = [401, 402, 403];
        var campaignId = await engine.StartSaleAsync([.. skus.Select(s => (s, 2_000, 4))]);

        var traffic = SaleTraffic.ReserveAsync(engine, campaignId, skus, attempts: 4_000, buyers: 2_000, parallelism: 32);
        for (var kill = 0; kill < 2; kill++)
        {
            await WaitForRowsAsync(campaignId, atLeast: 300 * (kill + 1));
            await engine.Persister.KillAsync();
            await engine.Persister.StartAsync();
        }
        var successes = await traffic;

        SaleTraffic.AssertExactlyOneRowEach(engine, successes, await engine.DrainAsync(campaignId, successes.Count));
        // Batches redelivered after each kill count once too, whether their deltas were applied before the kill or after.
        foreach (var sku in skus)
        {
            var units = successes.Where(s => s.SkuId == sku).Sum(s => s.Quantity);
            await Eventually.HoldsAsync(async () => (await engine.CountersAsync(campaignId, sku)).Reserved == units);
        }
    }

    [Fact]
    public async Task IngressKilledWithEntriesInFlightLosesNothingAfterRestart()
    {
        var campaignId = await engine.StartSaleAsync((501, 500, 2));
        var keys = new SkuKeys(campaignId, 501);
        var brokers = await engine.Kafka.BrokerIdsAsync();
        foreach (var broker in brokers)
        {
            await engine.Kafka.BrokerDownAsync(broker);
        }
        List<Success> decided;
        StreamEntry[] entries;
        try
        {
            // Kafka confirms nothing, so nothing is acknowledged: every buyer gets 503 and the reservations stand in Redis.
            var acknowledged = await SaleTraffic.ReserveAsync(engine, campaignId, [501], attempts: 300, buyers: 300, parallelism: 16, retryUnavailable: false);
            Assert.Empty(acknowledged);
            decided = await DecidedAsync(keys);
            Assert.NotEmpty(decided);
            // Concurrent buyers were decided in batches, one outbox entry each; together they carry every decided order.
            entries = await engine.Db.StreamRangeAsync(keys.Outbox);
            Assert.Equal(decided.Select(d => d.OrderNo).Order(), entries.SelectMany(e => OutboxEntry.Read(e).OrderNos).Order());
            // The relay has read every entry (pending with it) but Kafka confirmed none.
            await Eventually.HoldsAsync(async () => await PendingWithRelayAsync(keys.Outbox) == entries.Length);
            await engine.Ingress.KillAsync();
        }
        finally
        {
            foreach (var broker in brokers)
            {
                await engine.Kafka.BrokerUpAsync(broker);
            }
        }
        Assert.Equal(entries.Length, await engine.Db.StreamLengthAsync(keys.Outbox));
        Assert.Equal(decided.Count, await engine.Db.HashLengthAsync(keys.Pending));

        await engine.Ingress.StartAsync();

        // Nobody retries: the restarted relay's safety net takes what the dead Ingress never got into Kafka.
        SaleTraffic.AssertExactlyOneRowEach(engine, decided, await engine.DrainAsync(campaignId, decided.Count));
        await Eventually.HoldsAsync(async () => await engine.Db.StreamLengthAsync(keys.Outbox) == 0 && await engine.Db.HashLengthAsync(keys.Pending) == 0);
    }

    [Fact]
    public async Task BrokerDownForSecondsDuringTheSaleResumesByItself()
    {
        long[] skus = [601, 602];
        var campaignId = await engine.StartSaleAsync([.. skus.Select(s => (s, 1_500, 4))]);
        var brokers = await engine.Kafka.BrokerIdsAsync();

        var traffic = SaleTraffic.ReserveAsync(engine, campaignId, skus, attempts: 2_500, buyers: 1_500, parallelism: 16);
        await WaitForRowsAsync(campaignId, atLeast: 200);
        await engine.Kafka.BrokerDownAsync(brokers[0]);
        try
        {
            // A real cluster (replication factor 3, min.insync.replicas 2) elects other leaders within seconds; the mock never
            // moves leadership by itself, so the test does. Until the producer has the new leaders, the reservations whose
            // events went to the lost broker are answered 503 and retried by their buyers with the same key.
            for (var partition = 0; partition < PipelineFixture.Partitions; partition++)
            {
                await engine.Kafka.MoveLeaderAsync(engine.Topic, partition, brokers[1 + partition % (brokers.Length - 1)]);
            }
            // Down until the sale has gone on without it for a while (or ended), however fast this machine is.
            var reservedWhenDown = await ReservedAsync(campaignId, skus);
            await Eventually.HoldsAsync(async () => traffic.IsCompleted || await ReservedAsync(campaignId, skus) >= reservedWhenDown + 300);
        }
        finally
        {
            // Up again even when the sale did not go on: the next test of this fixture needs every broker.
            await engine.Kafka.BrokerUpAsync(brokers[0]);
        }
        var successes = await traffic;

        SaleTraffic.AssertExactlyOneRowEach(engine, successes, await engine.DrainAsync(campaignId, successes.Count));
    }

    [Fact]
    public async Task FailingProduceAndCommitRequestsAreRetriedWithoutLossOrDuplicates()
    {
        long[] skus = [701, 702];
        var campaignId = await engine.StartSaleAsync([.. skus.Select(s => (s, 1_000, 4))]);

        await engine.Kafka.PushErrorsAsync("Produce", "NOT_LEADER_OR_FOLLOWER", 30);
        await engine.Kafka.PushErrorsAsync("OffsetCommit", "COORDINATOR_NOT_AVAILABLE", 30);
        try
        {
            var successes = await SaleTraffic.ReserveAsync(engine, campaignId, skus, attempts: 1_500, buyers: 1_000, parallelism: 16);

            SaleTraffic.AssertExactlyOneRowEach(engine, successes, await engine.DrainAsync(campaignId, successes.Count));
        }
        finally
        {
            await engine.Kafka.ClearErrorsAsync();
        }
    }

    /// <summary>Entries the relay read and Kafka has not confirmed; zero until the relay made its consumer group.</summary>
    private async Task<long> PendingWithRelayAsync(StackExchange.Redis.RedisKey outbox)
    {
        try
        {
            return (await engine.Db.StreamPendingAsync(outbox, RelayOptions.ConsumerGroup)).PendingMessageCount;
        }
        catch (StackExchange.Redis.RedisServerException ex) when (ex.Message.StartsWith("NOGROUP", StringComparison.Ordinal))
        {
            return 0;
        }
    }

    /// <summary>Every reservation the SKU's ledger holds, acknowledged or not.</summary>
    private async Task<List<Success>> DecidedAsync(SkuKeys keys)
        => [.. (await RedisLedger.AllAsync(engine.Db, keys)).Select(e =>
        {
            var record = LedgerRecord.Parse(e.Value!);
            return new Success((long)e.Name, record.UserId, keys.SkuId, record.Quantity);
        })];

    /// <summary>Reservations Redis decided so far: one ledger entry each.</summary>
    private async Task<long> ReservedAsync(string campaignId, long[] skus)
    {
        var total = 0L;
        foreach (var sku in skus)
        {
            total += await RedisLedger.LengthAsync(engine.Db, new SkuKeys(campaignId, sku));
        }
        return total;
    }

    private async Task WaitForRowsAsync(string campaignId, int atLeast)
        => await Eventually.HoldsAsync(async () => (await engine.OrdersAsync(campaignId)).Count >= atLeast);
}
