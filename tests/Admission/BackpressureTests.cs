using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using Confluent.Kafka;
using FlashSale.Engine.Backpressure;
using FlashSale.Engine.Kafka;
using FlashSale.Engine.Persistence;
using FlashSale.Tests.Infrastructure;
using FlashSale.Tests.Pipeline;
using Microsoft.Extensions.Options;

namespace FlashSale.Tests.Admission;

/// <summary>An engine whose Ingress holds new reservations back once the Persisters' consumer lag passes 64 KB.</summary>
public sealed class BackpressureFixture : PipelineFixture
{
    public const long LagThresholdBytes = 64 * 1024;

    protected override IEnumerable<(string Key, string Value)> IngressSettings() =>
    [
        ("Backpressure__Enabled", "true"),
        ("Backpressure__CheckIntervalMs", "200"),
        ("Backpressure__ConsumerLagBytes", LagThresholdBytes.ToString(CultureInfo.InvariantCulture)),
        // Only the trigger under test: the Kafka mock on a loaded machine may be slow to confirm, and that is not this test's cause.
        ("Backpressure__DeliveryLatencyMs", "0"),
        ("Backpressure__OutboxBacklog", "0"),
    ];
}

/// <summary>An engine whose Ingress holds new reservations back once Kafka takes more than half a second to confirm a record.</summary>
public sealed class DeliveryLatencyFixture : PipelineFixture
{
    protected override IEnumerable<(string Key, string Value)> IngressSettings() =>
    [
        ("Backpressure__Enabled", "true"),
        ("Backpressure__CheckIntervalMs", "200"),
        ("Backpressure__DeliveryLatencyMs", "500"),
        ("Backpressure__ConsumerLagBytes", "0"),
        ("Backpressure__OutboxBacklog", "0"),
    ];
}

/// <summary>
/// Kafka stops confirming (every broker down): the Ingress sees its records wait, answers new reservations 503 busy
/// instead of deciding more that cannot be made durable, and sells again by itself once Kafka is back. The reservations
/// decided meanwhile (answered 503 unavailable) stand; their buyers' retries return them, each persisted exactly once.
/// </summary>
[Collection(PipelineCollection.Name)]
[Trait("Category", "Slow")]
public sealed class DeliveryLatencyBackpressureTests(DeliveryLatencyFixture engine) : IClassFixture<DeliveryLatencyFixture>
{
    private const long SkuId = 911;

    private enum Answer
    {
        Created,
        Unavailable,
        Busy,
    }

    [Fact]
    public async Task KafkaThatStopsConfirmingTurnsNewReservationsBusyUntilItIsBack()
    {
        var campaignId = await engine.StartSaleAsync((SkuId, 100_000, 1));
        var path = $"/api/v1/campaigns/{campaignId}/skus/{SkuId}/reservations";
        var answers = new ConcurrentDictionary<long, Answer>();
        var buyer = 200_000L;

        async Task<Answer> ReserveAsync(long userId)
        {
            using var client = engine.Client(engine.Tokens.Mint(userId));
            using var response = await TestSale.SendReservationAsync(client, path, $"b-{userId}");
            if (response.StatusCode == HttpStatusCode.Created)
            {
                return Answer.Created;
            }
            var slug = (await response.JsonAsync()).GetProperty("type").GetString();
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            return slug switch
            {
                "https://flashsale.dev/problems/busy" => Answer.Busy,
                "https://flashsale.dev/problems/unavailable" => Answer.Unavailable,
                _ => throw new Xunit.Sdk.XunitException($"503 {slug}"),
            };
        }

        Assert.Equal(Answer.Created, answers[++buyer] = await ReserveAsync(buyer));
        var brokers = await engine.Kafka.BrokerIdsAsync();
        foreach (var broker in brokers)
        {
            await engine.Kafka.BrokerDownAsync(broker);
        }
        try
        {
            // Kafka confirms nothing: the first reservations are decided and answered 503 unavailable after the durable-ack
            // deadline; the records they left waiting push the latency over 500 ms, and new buyers get 503 busy, with the
            // metrics saying why. The gauges are of the moment: once the records waiting give up, the latency can fall
            // back under the threshold and the gate opens until the next reservation decided closes it again, so the
            // scrape right after a busy answer can miss its cause; the round is then tried again.
            using var metricsClient = engine.Client();
            await Eventually.HoldsAsync(async () =>
            {
                var tries = Enumerable.Range(0, 4).Select(_ => Interlocked.Increment(ref buyer)).ToList();
                var results = await Task.WhenAll(tries.Select(ReserveAsync));
                for (var i = 0; i < tries.Count; i++)
                {
                    answers[tries[i]] = results[i];
                }
                if (!results.Any(r => r == Answer.Busy))
                {
                    return false;
                }
                var scrape = await PrometheusScrape.FetchAsync(metricsClient);
                return scrape.Series("flashsale_backpressure_delivery_latency_milliseconds").Single().Value > 500
                    && scrape.Sum("flashsale_backpressure_active", ("trigger", BackpressureMonitor.DeliveryLatency)) == 1;
            }, TimeSpan.FromSeconds(60));
        }
        finally
        {
            foreach (var broker in brokers)
            {
                await engine.Kafka.BrokerUpAsync(broker);
            }
        }

        // Back by itself once Kafka confirms again.
        await Eventually.HoldsAsync(async () =>
        {
            var next = Interlocked.Increment(ref buyer);
            return (answers[next] = await ReserveAsync(next)) == Answer.Created;
        }, TimeSpan.FromSeconds(90));

        // Busy answers decided nothing; the reservations answered 503 unavailable stand and come back on a retry.
        var successes = new List<Success>();
        foreach (var (userId, answer) in answers)
        {
            using var client = engine.Client(engine.Tokens.Mint(userId));
            using var retry = await TestSale.SendReservationAsync(client, path, $"b-{userId}");
            if (answer == Answer.Busy)
            {
                // Nothing was decided for it: the retry is a new reservation, or busy again; either way it is its first.
                Assert.True(retry.StatusCode is HttpStatusCode.Created or HttpStatusCode.ServiceUnavailable, retry.StatusCode.ToString());
            }
            else
            {
                Assert.True(retry.StatusCode is HttpStatusCode.OK or HttpStatusCode.Created, $"{answer} then {retry.StatusCode}");
            }
            if (retry.StatusCode is HttpStatusCode.OK or HttpStatusCode.Created)
            {
                successes.Add(new Success(long.Parse((await retry.JsonAsync()).GetProperty("orderNo").GetString()!, CultureInfo.InvariantCulture), userId, SkuId, 1));
            }
        }
        var decided = await RedisLedger.LengthAsync(engine.Db, new Engine.Redis.SkuKeys(campaignId, SkuId));
        Assert.Equal(successes.Count, decided);
        SaleTraffic.AssertExactlyOneRowEach(engine, successes, await engine.DrainAsync(campaignId, successes.Count));
    }
}

/// <summary>
/// Backpressure from the pipeline, with real processes: the Persister stops while buyers keep reserving; once its
/// consumer lag, read from Kafka by the Ingress, passes the threshold, new reservations get 503 busy (replays still pass),
/// long before the Kafka mock could drop a record; the Persister returns and the engine sells again by itself; every
/// acknowledged order is persisted exactly once.
/// </summary>
[Collection(PipelineCollection.Name)]
[Trait("Category", "Slow")]
public sealed class BackpressureTests(BackpressureFixture engine) : IClassFixture<BackpressureFixture>
{
    private const long SkuId = 901;

    /// <summary>A SKU of one unit, sold before the Persister stops: its sold-out answers must go on while the engine is busy.</summary>
    private const long SoldOutSkuId = 902;

    [Fact]
    public async Task AStoppedPersisterTurnsNewReservationsBusyAndTheEngineRecoversByItselfWhenItReturns()
    {
        var campaignId = await engine.StartSaleAsync((SkuId, 1_000_000, 1), (SoldOutSkuId, 1, 1));
        var path = $"/api/v1/campaigns/{campaignId}/skus/{SkuId}/reservations";
        var soldOutPath = $"/api/v1/campaigns/{campaignId}/skus/{SoldOutSkuId}/reservations";
        var acknowledged = new ConcurrentBag<Success>();
        var buyer = 100_000L;

        using (var first = engine.Client(engine.Tokens.Mint(99_999)))
        using (var sold = await TestSale.SendReservationAsync(first, soldOutPath, "the-only-unit"))
        {
            Assert.Equal(HttpStatusCode.Created, sold.StatusCode);
            acknowledged.Add(new Success(long.Parse((await sold.JsonAsync()).GetProperty("orderNo").GetString()!, CultureInfo.InvariantCulture), 99_999, SoldOutSkuId, 1));
        }

        // With the Persister running, a few hundred reservations: all acknowledged, none busy.
        var warm = await ReserveUntilAsync(path, acknowledged, () => Interlocked.Increment(ref buyer), stopAtBusy: true, count: 300);
        Assert.Equal(0, warm.Busy);
        Assert.Equal(300, acknowledged.Count(s => s.SkuId == SkuId));

        await engine.Persister.KillAsync();
        BusyAnswerSeen busy;
        try
        {
            var run = await ReserveUntilAsync(path, acknowledged, () => Interlocked.Increment(ref buyer), stopAtBusy: true, count: 100_000);
            Assert.True(run.Busy > 0, $"no 503 busy after {run.Sent} reservations with the Persister stopped");
            busy = run.First!;
            Assert.Equal("2", busy.RetryAfter);

            // Busy: new reservations are refused, decide nothing, and a replay of an acknowledged order still passes.
            using var client = engine.Client(engine.Tokens.Mint(busy.Buyer));
            using var refused = await TestSale.SendReservationAsync(client, path, "new-while-busy");
            await refused.AssertProblemAsync(HttpStatusCode.ServiceUnavailable, "busy");
            var owner = acknowledged.First(s => s.SkuId == SkuId);
            using var ownerClient = engine.Client(engine.Tokens.Mint(owner.UserId));
            using var replay = await TestSale.SendReservationAsync(ownerClient, path, $"b-{owner.UserId}");
            Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
            Assert.Equal(owner.OrderNo.ToString(CultureInfo.InvariantCulture), (await replay.JsonAsync()).GetProperty("orderNo").GetString());
            // and a sold-out SKU is still answered sold-out (the request decides nothing new, so it reaches the script).
            using var late = await TestSale.SendReservationAsync(client, soldOutPath, "too-late");
            await late.AssertProblemAsync(HttpStatusCode.Conflict, "sold-out");

            // The Ingress says why, and the lag it acted on is far from anything the mock drops (5 MB or 100,000 batches a partition).
            using var metricsClient = engine.Client();
            var scrape = await PrometheusScrape.FetchAsync(metricsClient);
            Assert.Equal(1, scrape.Sum("flashsale_backpressure_active", ("trigger", BackpressureMonitor.ConsumerLag)));
            Assert.True(scrape.Sum("flashsale_reservations_total", ("outcome", "busy")) >= 1, "busy answers are counted");
            var lag = MeasureLag();
            Assert.Equal(0, lag.Lost);
            Assert.InRange(lag.MaxPartitionLag, 1, 10_000);
            Assert.All(LowWatermarks(), low => Assert.Equal(0, low));
        }
        finally
        {
            await engine.Persister.StartAsync();
        }

        // Back by itself: once the Persister has caught up, new buyers are sold to again.
        await Eventually.HoldsAsync(async () =>
        {
            var next = Interlocked.Increment(ref buyer);
            using var client = engine.Client(engine.Tokens.Mint(next));
            using var response = await TestSale.SendReservationAsync(client, path, $"b-{next}");
            if (response.StatusCode == HttpStatusCode.Created)
            {
                acknowledged.Add(new Success(long.Parse((await response.JsonAsync()).GetProperty("orderNo").GetString()!, CultureInfo.InvariantCulture), next, SkuId, 1));
                return true;
            }
            await response.AssertProblemAsync(HttpStatusCode.ServiceUnavailable, "busy");
            return false;
        }, TimeSpan.FromSeconds(90));

        var successes = acknowledged.ToList();
        SaleTraffic.AssertExactlyOneRowEach(engine, successes, await engine.DrainAsync(campaignId, successes.Count));
        // Nothing was decided for a busy answer: Redis holds exactly the acknowledged orders.
        Assert.Equal(successes.Count(s => s.SkuId == SkuId), await RedisLedger.LengthAsync(engine.Db, new Engine.Redis.SkuKeys(campaignId, SkuId)));
    }

    private sealed record BusyAnswerSeen(long Buyer, string? RetryAfter);

    private sealed record Run(int Sent, int Busy, BusyAnswerSeen? First);

    /// <summary>New buyers reserve, eight at a time, until <paramref name="count"/> are sent or (with <paramref name="stopAtBusy"/>) one is answered busy.</summary>
    private async Task<Run> ReserveUntilAsync(string path, ConcurrentBag<Success> acknowledged, Func<long> nextBuyer, bool stopAtBusy, int count)
    {
        var sent = 0;
        var busyCount = 0;
        BusyAnswerSeen? first = null;
        using var stop = new CancellationTokenSource();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        await Parallel.ForEachAsync(Enumerable.Range(0, 8), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (_, _) =>
        {
            while (!stop.IsCancellationRequested && Interlocked.Increment(ref sent) <= count && DateTime.UtcNow < deadline)
            {
                var userId = nextBuyer();
                using var client = engine.Client(engine.Tokens.Mint(userId));
                using var response = await TestSale.SendReservationAsync(client, path, $"b-{userId}");
                if (response.StatusCode == HttpStatusCode.Created)
                {
                    var orderNo = long.Parse((await response.JsonAsync()).GetProperty("orderNo").GetString()!, CultureInfo.InvariantCulture);
                    acknowledged.Add(new Success(orderNo, userId, SkuId, 1));
                    continue;
                }
                await response.AssertProblemAsync(HttpStatusCode.ServiceUnavailable, "busy");
                Interlocked.Increment(ref busyCount);
                Interlocked.CompareExchange(ref first, new BusyAnswerSeen(userId, response.Headers.RetryAfter?.Delta?.TotalSeconds.ToString(CultureInfo.InvariantCulture)), null);
                if (stopAtBusy)
                {
                    await stop.CancelAsync();
                }
            }
        });
        return new Run(Math.Min(sent, count), busyCount, first);
    }

    private ConsumerLag MeasureLag()
    {
        using var probe = new ConsumerLagProbe(
            Options.Create(new KafkaOptions { BootstrapServers = engine.Kafka.BootstrapServers, ReservationsTopic = engine.Topic }),
            Options.Create(new PersistenceOptions { ConsumerGroup = engine.ConsumerGroup }));
        return probe.Measure();
    }

    private List<long> LowWatermarks()
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig
        {
            BootstrapServers = engine.Kafka.BootstrapServers,
            GroupId = "test-watermarks-" + Guid.NewGuid().ToString("N")[..8],
        }).Build();
        return [.. Enumerable.Range(0, PipelineFixture.Partitions).Select(p =>
            consumer.QueryWatermarkOffsets(new TopicPartition(engine.Topic, p), TimeSpan.FromSeconds(10)).Low.Value)];
    }
}
