using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using FlashSale.Engine.Redis;
using FlashSale.Engine.Relay;
using FlashSale.Engine.Reservations;
using FlashSale.Tests.Infrastructure;

namespace FlashSale.Tests.Pipeline;

/// <summary>
/// Durable acknowledgement (Reservations:Acknowledge = Durable, the default): a 201 or a replay's 200 only once the
/// reservation's event is in Kafka; the relay as the safety net for events no Ingress got there.
/// </summary>
[Collection(PipelineCollection.Name)]
[Trait("Category", "Slow")]
public sealed class DurableAckTests(PipelineFixture engine) : IClassFixture<PipelineFixture>
{
    /// <summary>Reservations:DurableAckTimeoutMs, the default the fixture's Ingress runs with.</summary>
    private const int DeadlineMs = 2_000;

    [Fact]
    public async Task WithKafkaDownReservationsAnswer503InTimeAndEveryOrderDecidedMeanwhileIsPersistedOnceAfterwards()
    {
        var campaignId = await engine.StartSaleAsync((801, 1_000, 4));
        var keys = new SkuKeys(campaignId, 801);
        var path = $"/api/v1/campaigns/{campaignId}/skus/801/reservations";
        long[] buyers = [.. Enumerable.Range(20_000, 24).Select(b => (long)b)];
        var brokers = await engine.Kafka.BrokerIdsAsync();
        foreach (var broker in brokers)
        {
            await engine.Kafka.BrokerDownAsync(broker);
        }
        try
        {
            await Parallel.ForEachAsync(buyers, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (user, _) =>
            {
                using var client = engine.Client(engine.Tokens.Mint(user));
                var watch = Stopwatch.StartNew();
                using var response = await TestSale.SendReservationAsync(client, path, $"down-{user}");
                watch.Stop();
                await response.AssertProblemAsync(HttpStatusCode.ServiceUnavailable, "unavailable");
                Assert.NotNull(response.Headers.RetryAfter);
                Assert.InRange(watch.ElapsedMilliseconds, 0, DeadlineMs + 1_000);
            });
            // The reservations stand (decided, waiting for Kafka), and a retry is not acknowledged while Kafka stays down.
            Assert.Equal(buyers.Length, await RedisLedger.LengthAsync(engine.Db, keys));
            using var retry = engine.Client(engine.Tokens.Mint(buyers[0]));
            using var again = await TestSale.SendReservationAsync(retry, path, $"down-{buyers[0]}");
            await again.AssertProblemAsync(HttpStatusCode.ServiceUnavailable, "unavailable");
        }
        finally
        {
            foreach (var broker in brokers)
            {
                await engine.Kafka.BrokerUpAsync(broker);
            }
        }

        // Kafka is back: each buyer's retry with the same key returns the order decided for it (a replay), once durable.
        var acknowledged = new ConcurrentBag<Success>();
        await Parallel.ForEachAsync(buyers, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (user, _) =>
        {
            using var client = engine.Client(engine.Tokens.Mint(user));
            await Eventually.HoldsAsync(async () =>
            {
                using var response = await TestSale.SendReservationAsync(client, path, $"down-{user}");
                if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
                {
                    return false;
                }
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Equal("true", Assert.Single(response.Headers.GetValues("Idempotent-Replayed")));
                acknowledged.Add(new Success(OrderNo(await response.JsonAsync()), user, 801, 1));
                return true;
            });
        });
        // And the sale goes on by itself: new buyers are acknowledged within the deadline.
        for (var user = 21_000L; user < 21_010; user++)
        {
            using var client = engine.Client(engine.Tokens.Mint(user));
            var watch = Stopwatch.StartNew();
            using var response = await TestSale.SendReservationAsync(client, path, $"after-{user}");
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            Assert.InRange(watch.ElapsedMilliseconds, 0, DeadlineMs);
            acknowledged.Add(new Success(OrderNo(await response.JsonAsync()), user, 801, 1));
        }

        Assert.Equal(buyers.Length + 10, await RedisLedger.LengthAsync(engine.Db, keys));
        SaleTraffic.AssertExactlyOneRowEach(engine, [.. acknowledged], await engine.DrainAsync(campaignId, acknowledged.Count));
        await Eventually.HoldsAsync(async () => await engine.Db.StreamLengthAsync(keys.Outbox) == 0 && await engine.Db.HashLengthAsync(keys.Pending) == 0);
    }

    [Fact]
    [Trait("Cluster", "yes")]
    public async Task RelayLeavesAFreshEntryToItsIngressAndSendsOneNobodyProducedOnceItIsOld()
    {
        var campaignId = await engine.StartSaleAsync((802, 100, 4));
        var keys = new SkuKeys(campaignId, 802);
        const long userId = 30_001;
        var orderNo = new OrderNumberGenerator(61, TimeProvider.System).Next(userId);
        // Decided as an Ingress decides, by one that died before producing: only the relay can take it to Kafka now.
        var reply = await engine.Scripts.ReserveManyAsync(engine.Db, SkuScripts.ReserveKeys(keys), keys, [new BatchRequest(userId, "orphan", 1, orderNo)], default);
        Assert.Equal(ScriptCode.Done, Assert.Single(reply.Replies).Code);
        var decidedMs = long.Parse(reply.OutboxId![..reply.OutboxId!.IndexOf('-', StringComparison.Ordinal)], CultureInfo.InvariantCulture);

        // The relay has read it and holds it, and by Redis's clock it is half-way to the safety-net age (4 s in the
        // fixture): a relay that sent fresh entries would have sent (and settled) it by now; this one leaves it to its Ingress.
        await Eventually.HoldsAsync(async () =>
            await engine.Db.KeyExistsAsync(keys.Outbox)
            && (await engine.Db.StreamGroupInfoAsync(keys.Outbox)).Any(g => g.Name == RelayOptions.ConsumerGroup && g.PendingMessageCount == 1)
            && await engine.RedisNowMsAsync() - decidedMs >= 2_000);
        Assert.Equal(1, await engine.Db.StreamLengthAsync(keys.Outbox));
        Assert.Empty(await engine.OrdersAsync(campaignId));

        SaleTraffic.AssertExactlyOneRowEach(engine, [new Success(orderNo, userId, 802, 1)], await engine.DrainAsync(campaignId, 1));
        await Eventually.HoldsAsync(async () => await engine.Db.StreamLengthAsync(keys.Outbox) == 0 && !await engine.Db.HashExistsAsync(keys.Pending, orderNo));
    }

    private static long OrderNo(System.Text.Json.JsonElement body) => long.Parse(body.GetProperty("orderNo").GetString()!, CultureInfo.InvariantCulture);
}
