using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using FlashSale.Engine.Campaigns;
using FlashSale.Engine.Lifecycle;
using FlashSale.Engine.Reconciliation;
using FlashSale.Engine.Redis;
using FlashSale.Engine.Storage;
using FlashSale.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace FlashSale.Tests.Reconciliation;

/// <summary>
/// The running counts of a SKU's ledger (meta <c>reserved</c> and <c>sold</c>) against the ledger itself, counted here
/// with HVALS after each step: they must never drift, because recover, restock and the reconciler trust them instead
/// of reading the ledger.
/// </summary>
[Collection(IngressCollection.Name)]
[Trait("Cluster", "yes")]
public sealed class LedgerCountsTests(IngressFactory factory)
{
    private SkuScripts Scripts => factory.Services.GetRequiredService<SkuScripts>();

    [Fact]
    public async Task CountsStayExactThroughReservePayCancelReleaseAdoptAndRecover()
    {
        var sale = await TestSale.StartAsync(factory, stock: 30, perUserLimit: 3);
        Assert.Equal((0, 0), await AssertCountsExactAsync(sale));

        var orders = new List<long>();
        foreach (var (user, quantity) in new[] { (6101L, 1), (6102L, 2), (6103L, 3), (6104L, 1) })
        {
            orders.Add(await ReserveAsync(sale, user, quantity));
        }
        Assert.Equal((7, 0), await AssertCountsExactAsync(sale));

        Assert.Equal(MarkPaidOutcome.Marked, await Scripts.MarkPaidAsync(sale.Db, sale.Keys, orders[1]));
        Assert.Equal(MarkPaidOutcome.AlreadyPaid, await Scripts.MarkPaidAsync(sale.Db, sale.Keys, orders[1]));
        Assert.Equal((5, 2), await AssertCountsExactAsync(sale));

        // A buyer's cancel in MySQL, then its release (R -> C), then a second release that changes nothing.
        Assert.Equal(4, await ShardOrders.PersistAsync(factory, sale));
        var (cancelled, _) = await factory.Services.GetRequiredService<OrderLifecycle>().CancelAsync(orders[2], "buyer", CancellationToken.None);
        Assert.Equal(CancelOutcome.Cancelled, cancelled);
        Assert.Equal(ReleaseOutcome.AlreadyReleased, await Scripts.ReleaseAsync(sale.Db, sale.Keys, orders[2]));
        Assert.Equal(ReleaseOutcome.Paid, await Scripts.ReleaseAsync(sale.Db, sale.Keys, orders[1]));
        Assert.Equal((2, 2), await AssertCountsExactAsync(sale));

        // Orders Redis forgot come back in their own state; adopting one again changes nothing.
        var created = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var forgottenPaid = new LedgerRecord(6105, 2, 39_800, created, created + 900_000, LedgerRecord.Paid);
        var forgottenReserved = forgottenPaid with { UserId = 6106, Quantity = 1, State = LedgerRecord.Reserved };
        Assert.Equal(AdoptOutcome.Adopted, (await Scripts.AdoptAsync(sale.Db, sale.Keys, 8_800_000_001, forgottenPaid, "a")).Outcome);
        Assert.Equal(AdoptOutcome.Adopted, (await Scripts.AdoptAsync(sale.Db, sale.Keys, 8_800_000_002, forgottenReserved, "b")).Outcome);
        Assert.Equal(AdoptOutcome.AlreadyKnown, (await Scripts.AdoptAsync(sale.Db, sale.Keys, 8_800_000_001, forgottenPaid, "a")).Outcome);
        Assert.Equal((3, 4), await AssertCountsExactAsync(sale));

        // Recovery sets the stock from the counts and leaves them as they are; so does a forced reload.
        await sale.Db.HashSetAsync(sale.Keys.Meta, MetaFields.Available, 30);
        Assert.Equal(FenceOutcome.Fenced, await Scripts.FenceAsync(sale.Db, sale.Keys, "test"));
        var recovered = await Scripts.RecoverAsync(sale.Db, sale.Keys, highWater: 0);
        Assert.Equal((RecoverOutcome.Unfenced, 23L), (recovered.Outcome, recovered.Available));
        Assert.Equal((3, 4), await AssertCountsExactAsync(sale));
        using (var admin = factory.Admin())
        {
            using var reloaded = await admin.PostAsync($"/api/v1/admin/campaigns/{sale.CampaignId}/warmup?force=true", null);
            Assert.Equal(HttpStatusCode.OK, reloaded.StatusCode);
        }
        Assert.Equal((3, 4), await AssertCountsExactAsync(sale));
        Assert.Equal(23, await sale.AvailableAsync());
    }

    [Fact]
    public async Task ASkuLoadedBeforeTheCountsIsCountedOnceBeforeItsStockIsTrusted()
    {
        var sale = await TestSale.StartAsync(factory, stock: 10, perUserLimit: 2);
        var paid = await ReserveAsync(sale, 6201, 2);
        await ReserveAsync(sale, 6202, 1);
        Assert.Equal(MarkPaidOutcome.Marked, await Scripts.MarkPaidAsync(sale.Db, sale.Keys, paid));
        // As an older engine left it: no counts at all, and a stock that sells two units buyers hold.
        await sale.Db.HashDeleteAsync(sale.Keys.Meta, [MetaFields.Reserved, MetaFields.Sold, MetaFields.Counted]);
        await sale.Db.HashSetAsync(sale.Keys.Meta, MetaFields.Available, 9);

        // Before anything is restocked, the ledger is counted (page by page) and the stock is judged against that count, not against zero.
        var restocked = await Scripts.RestockAsync(sale.Db, sale.Keys, ceiling: 10);
        Assert.Equal(new RestockReply(9, 7), restocked);
        Assert.Equal((1, 2), await AssertCountsExactAsync(sale));

        // The same through the reconciler's repair, starting from no counts again.
        await sale.Db.HashDeleteAsync(sale.Keys.Meta, [MetaFields.Reserved, MetaFields.Sold, MetaFields.Counted]);
        await sale.Db.HashSetAsync(sale.Keys.Meta, MetaFields.Available, 10);
        await ShardOrders.PersistAsync(factory, sale);
        await factory.Services.GetRequiredService<OrderLifecycle>().ApplyPaymentAsync(
            new PaymentCallback(paid, "txn-6201", 398.00m, Succeeded: true), CancellationToken.None);
        var campaign = (await factory.Services.GetRequiredService<CampaignStore>().GetAsync(sale.CampaignId, CancellationToken.None))!;
        var result = Assert.Single(await TestReconciler.Create(factory, graceMs: 60_000).ReconcileAsync(campaign, repair: true));
        Assert.Equal(new DriftFinding(DriftKind.StockMismatch, 0, 3), Assert.Single(result.Before.Findings));
        Assert.Equal(0, result.After.Drift);
        Assert.Equal(7, await sale.AvailableAsync());
        Assert.Equal((1, 2), await AssertCountsExactAsync(sale));
    }

    [Fact]
    public async Task ACountTakenWhileTheLedgerMovedIsRefused()
    {
        var sale = await TestSale.StartAsync(factory, stock: 10);
        await ReserveAsync(sale, 6301, 1);
        await sale.Db.HashDeleteAsync(sale.Keys.Meta, [MetaFields.Reserved, MetaFields.Sold, MetaFields.Counted]);
        var seq = (string?)await sale.Db.HashGetAsync(sale.Keys.Meta, MetaFields.Sequence);
        var count = RedisScript.Load("count.lua");
        var metrics = factory.Services.GetRequiredService<ScriptMetrics>();

        // A walk that began before a reservation it did not see: the sequence moved, nothing is written.
        var stale = await count.EvaluateAsync(sale.Db, metrics, [sale.Keys.Meta], [0, 0, (long.Parse(seq!, CultureInfo.InvariantCulture) - 1).ToString(CultureInfo.InvariantCulture), ""]);
        Assert.Equal(ScriptCode.NotCounted, (ScriptCode)(int)stale);
        Assert.False(await sale.Db.HashExistsAsync(sale.Keys.Meta, MetaFields.Counted));

        Assert.True(await Scripts.CountLedgerAsync(sale.Db, sale.Keys));
        Assert.Equal((1, 0), await AssertCountsExactAsync(sale));
    }

    [Fact]
    public async Task TheLoopWalksABoundedShareOfTheLedgerEachRoundAndFindsALostEventWithinAPass()
    {
        // Over 32 of the ledger's 42 shards (a shard per page of 50), so a round of four pages sees a tenth of it.
        const int young = 1_000;
        var sale = await TestSale.StartAsync(factory, stock: 2_000);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var numbers = await RedisLedger.OrderNumbersAsync(sale.Db, sale.Keys, 0x6000_0000_0000_0000L + (Random.Shared.NextInt64(1, 1L << 40) << 17), young + 1);
        var lost = numbers[^1];
        var entries = numbers[..young]
            .Select((orderNo, i) => (orderNo, new LedgerRecord(7_000 + i, 1, 19_900, now, now + 900_000, LedgerRecord.Reserved).ToString()))
            .Append((lost, new LedgerRecord(6_999, 1, 19_900, now - 300_000, now + 600_000, LedgerRecord.Reserved).ToString()));
        await RedisLedger.WriteAsync(sale.Db, sale.Keys, entries);
        await sale.Db.HashSetAsync(sale.Keys.Meta, [new(MetaFields.Reserved, young + 1), new(MetaFields.Available, 2_000 - young - 1)]);
        var campaign = (await factory.Services.GetRequiredService<CampaignStore>().GetAsync(sale.CampaignId, CancellationToken.None))!;
        var reconciler = TestReconciler.Create(factory, graceMs: 60_000, pageSize: 50, pagesPerRound: 4);

        var rounds = 0;
        SkuReconciliation round;
        do
        {
            round = Assert.Single(await reconciler.ReconcileRoundAsync(campaign, CancellationToken.None));
            rounds++;
            // A round sees 4 pages of a shard each (32 orders here), never the whole ledger.
            Assert.InRange(round.Before.InFlight, 0, 400);
        }
        while (round.Before.Findings.Count == 0 && rounds < 20);

        Assert.Equal(new DriftFinding(DriftKind.LostEvent, lost, 1), Assert.Single(round.Before.Findings));
        Assert.Equal(1, round.Repairs[DriftKind.LostEvent]);
        // Within one pass over the ledger: its 42 shards at four a round, the lost entry in the ninth shard the walk meets.
        Assert.InRange(rounds, 1, 11);
        Assert.NotNull((string?)await sale.Db.HashGetAsync(sale.Keys.Pending, lost));
    }

    [Fact]
    public async Task ALoopWalkLeftPastTheLastShardOfASkuLoadedAgainWithFewerFindsTheLedgerDone()
    {
        var sale = await TestSale.StartAsync(factory, stock: 2_000);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var numbers = await RedisLedger.OrderNumbersAsync(sale.Db, sale.Keys, 0x6200_0000_0000_0000L + (Random.Shared.NextInt64(1, 1L << 40) << 17), 200);
        // Young reservations the counts know and MySQL does not: the loop walks the ledger, four shards a round.
        await RedisLedger.WriteAsync(sale.Db, sale.Keys, numbers.Select((orderNo, i) => (orderNo, new LedgerRecord(7_100 + i, 1, 19_900, now, now + 900_000, LedgerRecord.Reserved).ToString())));
        await sale.Db.HashSetAsync(sale.Keys.Meta, [new(MetaFields.Reserved, numbers.Length), new(MetaFields.Available, 2_000 - numbers.Length)]);
        var campaign = (await factory.Services.GetRequiredService<CampaignStore>().GetAsync(sale.CampaignId, CancellationToken.None))!;
        var reconciler = TestReconciler.Create(factory, graceMs: 60_000, pageSize: 50, pagesPerRound: 4);
        Assert.Single(await reconciler.ReconcileRoundAsync(campaign, CancellationToken.None));

        // The SKU as a first load from nothing would leave it, with two shards where the walk stood at the fifth.
        await sale.Db.HashSetAsync(sale.Keys.Meta, MetaFields.LedgerShards, 2);

        var round = Assert.Single(await reconciler.ReconcileRoundAsync(campaign, CancellationToken.None));
        Assert.Equal(0, round.Before.Drift);
        Assert.Single(await reconciler.ReconcileRoundAsync(campaign, CancellationToken.None));
    }

    [Fact]
    public async Task TheLoopRestsAfterEachCountAndPageInProportionToItAndAOneOffCheckNeverRests()
    {
        const int entries = 1_000;
        var sale = await TestSale.StartAsync(factory, stock: 2_000);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var numbers = await RedisLedger.OrderNumbersAsync(sale.Db, sale.Keys, 0x6100_0000_0000_0000L + (Random.Shared.NextInt64(1, 1L << 40) << 17), entries);
        // Old enough to be judged against MySQL, so each page costs what a sale's ledger costs a round; in flight, as their
        // pending marks name an outbox entry still in the stream.
        var records = new LedgerRecord(7_000, 1, 19_900, now - 300_000, now + 600_000, LedgerRecord.Reserved).ToString();
        var entry = await sale.Db.StreamAddAsync(sale.Keys.Outbox, "v", "3");
        await RedisLedger.WriteAsync(sale.Db, sale.Keys, numbers.Select(orderNo => (orderNo, records)));
        await sale.Db.HashSetAsync(sale.Keys.Pending, [.. numbers.Select(orderNo => new HashEntry(orderNo, entry))]);
        await sale.Db.HashSetAsync(sale.Keys.Meta, [new(MetaFields.Reserved, entries), new(MetaFields.Available, 2_000 - entries)]);
        var campaign = (await factory.Services.GetRequiredService<CampaignStore>().GetAsync(sale.CampaignId, CancellationToken.None))!;

        try
        {
            // Large enough that even the count of an empty SKU (a few hundred µs) rests a whole millisecond, the least a delay waits.
            const double factor = 20;
            var time = new TimersRecorded();
            var reconciler = TestReconciler.Create(factory, graceMs: 60_000, pageSize: 50, pagesPerRound: 4, time: time, walkPauseFactor: factor);
            var started = Stopwatch.GetTimestamp();
            var round = Assert.Single(await reconciler.ReconcileRoundAsync(campaign, CancellationToken.None));
            var took = Stopwatch.GetElapsedTime(started);

            Assert.Equal(0, round.Before.Drift);
            Assert.InRange(round.Before.InFlight, 1, 400);
            // A rest after the round's first count of the SKU's orders in MySQL, and after each of its four pages but the last,
            // each as long as what came before it took, times the factor.
            var rests = time.Timers.ToArray();
            Assert.True(rests.Length == 4, $"{rests.Length} rests ({string.Join(", ", rests)}), {round.Before.InFlight} entries in flight");
            Assert.All(rests, rest => Assert.True(rest > TimeSpan.Zero, $"a rest of {rest}"));
            Assert.True(took >= rests.Aggregate(TimeSpan.Zero, (a, b) => a + b), $"the round took {took}, less than its rests");

            // The ledger endpoint's check walks everything at once: an operator waits for it.
            time.Timers.Clear();
            Assert.Equal(entries, Assert.Single(await reconciler.ReconcileAsync(campaign, repair: false)).Before.InFlight);
            Assert.Empty(time.Timers);

            // And a factor of 0 walks the loop's pages back to back.
            time.Timers.Clear();
            var unpaced = TestReconciler.Create(factory, graceMs: 60_000, pageSize: 50, pagesPerRound: 4, time: time, walkPauseFactor: 0);
            Assert.Single(await unpaced.ReconcileRoundAsync(campaign, CancellationToken.None));
            Assert.Empty(time.Timers);
        }
        finally
        {
            // The entry is no batch: the relay's safety net must not find it once it is old enough to send.
            await sale.Db.KeyDeleteAsync([sale.Keys.Outbox, sale.Keys.Pending]);
        }
    }

    /// <summary>The system's clock, keeping the due time of every timer asked of it: a Task.Delay on it is one.</summary>
    private sealed class TimersRecorded : TimeProvider
    {
        public ConcurrentQueue<TimeSpan> Timers { get; } = new();

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            Timers.Enqueue(dueTime);
            return System.CreateTimer(callback, state, dueTime, period);
        }
    }

    /// <summary>Asserts the counts equal the ledger counted entry by entry, and the stock is total minus them; returns them.</summary>
    private static async Task<(long Reserved, long Sold)> AssertCountsExactAsync(TestSale sale)
    {
        var meta = await sale.Db.HashGetAsync(sale.Keys.Meta, [MetaFields.Reserved, MetaFields.Sold, MetaFields.Counted, MetaFields.Total, MetaFields.Available]);
        Assert.False(meta[2].IsNull, "the SKU has exact counts");
        var records = (await RedisLedger.AllAsync(sale.Db, sale.Keys)).Select(e => LedgerRecord.Parse(e.Value.ToString())).ToList();
        var reserved = records.Where(r => r.State == LedgerRecord.Reserved).Sum(r => (long)r.Quantity);
        var sold = records.Where(r => r.State == LedgerRecord.Paid).Sum(r => (long)r.Quantity);
        Assert.Equal((reserved, sold), ((long)meta[0], (long)meta[1]));
        Assert.Equal((long)meta[3] - reserved - sold, (long)meta[4]);
        return (reserved, sold);
    }

    private async Task<long> ReserveAsync(TestSale sale, long userId, int quantity)
    {
        using var buyer = factory.Buyer(userId);
        using var created = await sale.ReserveAsync(buyer, "k", quantity);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return long.Parse((await created.JsonAsync()).GetProperty("orderNo").GetString()!, CultureInfo.InvariantCulture);
    }
}

/// <summary>A reconciler over the in-process Ingress's services, with the settings a test needs.</summary>
internal static class TestReconciler
{
    public static Reconciler Create(
        IngressFactory factory, int graceMs, int? pageSize = null, int? pagesPerRound = null, TimeProvider? time = null, double? walkPauseFactor = null)
    {
        var options = new ReconcilerOptions { GraceMs = graceMs };
        options.WalkPageSize = pageSize ?? options.WalkPageSize;
        options.WalkPagesPerRound = pagesPerRound ?? options.WalkPagesPerRound;
        options.WalkPauseFactor = walkPauseFactor ?? options.WalkPauseFactor;
        return new Reconciler(
            factory.Db,
            factory.Services.GetRequiredService<ShardDataSources>(),
            factory.Services.GetRequiredService<CatalogDataSource>(),
            factory.Services.GetRequiredService<CampaignStore>(),
            factory.Services.GetRequiredService<OrderLifecycle>(),
            factory.Services.GetRequiredService<SkuScripts>(),
            factory.Services.GetRequiredService<ReconcilerMetrics>(),
            Options.Create(options),
            time ?? TimeProvider.System,
            NullLogger<Reconciler>.Instance);
    }
}
