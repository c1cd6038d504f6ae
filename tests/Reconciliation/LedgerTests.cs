using System.Globalization;
using System.Net;
using System.Text.Json;
using FlashSale.Engine.Campaigns;
using FlashSale.Engine.Lifecycle;
using FlashSale.Engine.Persistence;
using FlashSale.Engine.Reconciliation;
using FlashSale.Engine.Redis;
using FlashSale.Engine.Storage;
using FlashSale.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace FlashSale.Tests.Reconciliation;

[Collection(IngressCollection.Name)]
[Trait("Cluster", "yes")]
public sealed class LedgerTests(IngressFactory factory)
{
    [Fact]
    public async Task LedgerCountsReservationsOnTheirWayAsInFlightThenOnBothSides()
    {
        var sale = await TestSale.StartAsync(factory, stock: 10, perUserLimit: 2);
        await ReserveAsync(sale, 5101, 5102, 5103);
        using var admin = factory.Admin();

        var before = await LedgerAsync(admin, sale);
        Assert.Equal(10, before.GetProperty("total").GetInt32());
        Assert.Equal(7, before.GetProperty("redis").GetProperty("available").GetInt64());
        Assert.Equal(3, before.GetProperty("redis").GetProperty("reserved").GetInt64());
        Assert.Equal(0, before.GetProperty("db").GetProperty("pending").GetInt64());
        Assert.Equal(3, before.GetProperty("inFlight").GetInt64());
        Assert.Equal(0, before.GetProperty("drift").GetInt64());

        await ShardOrders.PersistAsync(factory, sale);
        var after = await LedgerAsync(admin, sale);
        Assert.Equal(3, after.GetProperty("db").GetProperty("pending").GetInt64());
        Assert.Equal(0, after.GetProperty("inFlight").GetInt64());
        Assert.Equal(0, after.GetProperty("drift").GetInt64());
        Assert.Empty(after.GetProperty("findings").EnumerateArray());
        var checkedAt = DateTimeOffset.Parse(after.GetProperty("checkedAt").GetString()!, CultureInfo.InvariantCulture);
        Assert.InRange(checkedAt, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(1));
    }

    [Fact]
    public async Task LedgerIsForAdminsAndKnownSkusOnly()
    {
        var sale = await TestSale.StartAsync(factory, stock: 1);
        using var buyer = factory.Buyer(5110);
        using var admin = factory.Admin();

        using var refused = await buyer.GetAsync(LedgerPath(sale.CampaignId, sale.SkuId));
        await refused.AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        using var unknownSku = await admin.GetAsync(LedgerPath(sale.CampaignId, sale.SkuId + 1));
        await unknownSku.AssertProblemAsync(HttpStatusCode.NotFound, "not-found");
        using var unknownCampaign = await admin.GetAsync(LedgerPath("no-such-campaign", 1));
        await unknownCampaign.AssertProblemAsync(HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task CancelWhoseReleaseNeverRanGivesItsUnitBackExactlyOnce()
    {
        var sale = await TestSale.StartAsync(factory, stock: 5, perUserLimit: 1);
        var orders = await ReserveAsync(sale, 5121, 5122);
        Assert.Equal(2, await ShardOrders.PersistAsync(factory, sale));

        await CancelWhileRedisIsUnreachableAsync(orders[0]);
        Assert.Equal(3, await sale.AvailableAsync());

        var reconciler = Reconciler(graceMs: 0);
        var campaign = await CampaignAsync(sale);
        var found = Assert.Single(await reconciler.ReconcileAsync(campaign, repair: false));
        Assert.Equal(new DriftFinding(DriftKind.UnreleasedCancel, orders[0], 1), Assert.Single(found.Before.Findings));
        Assert.Equal(1, found.Before.Drift);
        Assert.Equal(3, await sale.AvailableAsync());

        var repaired = Assert.Single(await reconciler.ReconcileAsync(campaign, repair: true));
        Assert.Equal(1, repaired.Repairs[DriftKind.UnreleasedCancel]);
        Assert.Equal(0, repaired.After.Drift);
        Assert.Equal(4, await sale.AvailableAsync());

        // Again, and the Persister's own scan for interrupted releases: nothing comes back a second time.
        var again = Assert.Single(await reconciler.ReconcileAsync(campaign, repair: true));
        Assert.Empty(again.Repairs);
        await factory.Services.GetRequiredService<OrderLifecycle>().ReleasePendingAsync(500, CancellationToken.None);
        Assert.Equal(4, await sale.AvailableAsync());
        Assert.EndsWith("|C", (await RedisLedger.RecordAsync(sale.Db, sale.Keys, orders[0])), StringComparison.Ordinal);
        Assert.Equal(1, await ShardOrders.ScalarAsync<int>(factory, orders[0], "SELECT stock_released FROM orders WHERE order_no = @orderNo"));
    }

    [Fact]
    public async Task StockChangedBehindTheEnginesBackIsSetToTotalMinusHeldUnits()
    {
        var sale = await TestSale.StartAsync(factory, stock: 5, perUserLimit: 1);
        await ReserveAsync(sale, 5131, 5132);
        Assert.Equal(2, await ShardOrders.PersistAsync(factory, sale));
        var reconciler = Reconciler(graceMs: 60_000);
        var campaign = await CampaignAsync(sale);

        // Too much stock (three more units than exist) would oversell: it is taken away.
        await sale.Db.HashIncrementAsync(sale.Keys.Meta, "available", 3);
        var lowered = Assert.Single(await reconciler.ReconcileAsync(campaign, repair: true));
        Assert.Equal(new DriftFinding(DriftKind.StockMismatch, 0, 3), Assert.Single(lowered.Before.Findings));
        Assert.Equal(1, lowered.Repairs[DriftKind.StockMismatch]);
        Assert.Equal(0, lowered.After.Drift);
        Assert.Equal(3, await sale.AvailableAsync());

        // Too little would undersell: it is given back, up to total minus the live orders.
        await sale.Db.HashIncrementAsync(sale.Keys.Meta, "available", -2);
        var raised = Assert.Single(await reconciler.ReconcileAsync(campaign, repair: true));
        Assert.Equal(2, raised.Before.Drift);
        Assert.Equal(0, raised.After.Drift);
        Assert.Equal(3, await sale.AvailableAsync());
    }

    [Fact]
    public async Task TheLoopCountsTheOrdersInMySqlOnlyWhenEitherSideMovedAndTakesTheRunningCountersWhileSelling()
    {
        var sale = await TestSale.StartAsync(factory, stock: 10, perUserLimit: 1);
        var orders = await ReserveAsync(sale, 5141, 5142);
        Assert.Equal(2, await ShardOrders.PersistAsync(factory, sale));
        var counters = new CounterApplier(factory.Services.GetRequiredService<ShardDataSources>(), factory.Services.GetRequiredService<CatalogDataSource>());
        await counters.ApplyAsync(CancellationToken.None);
        var reconciler = Reconciler(graceMs: 0);
        var campaign = await CampaignAsync(sale);

        var first = await RoundAsync();
        Assert.Equal((DbTotalsSource.Exact, 2L, 0L), (first.Before.DbTotals, first.Before.Db.Pending, first.Before.Drift));
        // Neither side moved: the orders are not counted again, and the totals are the same.
        var idle = await RoundAsync();
        Assert.Equal((DbTotalsSource.Unchanged, 2L, 0L), (idle.Before.DbTotals, idle.Before.Db.Pending, idle.Before.Drift));

        // MySQL moved and Redis did not (a cancel whose release never ran): once the counter loop has applied the cancel,
        // the next round counts the orders again, walks, and repairs it.
        await CancelWhileRedisIsUnreachableAsync(orders[0]);
        await counters.ApplyAsync(CancellationToken.None);
        var moved = await RoundAsync();
        Assert.Equal(DbTotalsSource.Exact, moved.Before.DbTotals);
        Assert.Equal(new DriftFinding(DriftKind.UnreleasedCancel, orders[0], 1), Assert.Single(moved.Before.Findings));
        Assert.Equal(1, moved.Repairs[DriftKind.UnreleasedCancel]);
        Assert.Equal(9, await sale.AvailableAsync());

        // A sale going on moves the decision sequence: the round takes the catalog's running counters, and still walks.
        await ReserveAsync(sale, 5143);
        var selling = await RoundAsync();
        Assert.Equal(DbTotalsSource.RunningCounters, selling.Before.DbTotals);
        Assert.Equal(new DbLedgerSide(1, 0, 1), selling.Before.Db);
        Assert.Equal(2, selling.Before.Redis.Reserved);
        Assert.Equal(1, selling.Before.InFlight);
        Assert.Equal(0, selling.Before.Drift);

        // Out of the loop's scope (a campaign past the look-back), the SKU is forgotten: back in it, it is counted anew.
        reconciler.ForgetAllBut([]);
        Assert.Equal(DbTotalsSource.Exact, (await RoundAsync()).Before.DbTotals);
        reconciler.ForgetAllBut([campaign]);
        Assert.Equal(DbTotalsSource.Unchanged, (await RoundAsync()).Before.DbTotals);

        async Task<SkuReconciliation> RoundAsync() => Assert.Single(await reconciler.ReconcileRoundAsync(campaign, CancellationToken.None));
    }

    /// <summary>Cancels the order in MySQL while Redis cannot be reached, so its release never runs.</summary>
    private async Task CancelWhileRedisIsUnreachableAsync(long orderNo)
    {
        await using var unreachable = await ConnectionMultiplexer.ConnectAsync("127.0.0.1:1,abortConnect=false,connectTimeout=300");
        var cutOff = new OrderLifecycle(
            factory.Services.GetRequiredService<ShardDataSources>(), unreachable.GetDatabase(), factory.Services.GetRequiredService<SkuScripts>(),
            factory.Services.GetRequiredService<LifecycleMetrics>(),
            TimeProvider.System, NullLogger<OrderLifecycle>.Instance);
        var (outcome, _) = await cutOff.CancelAsync(orderNo, "buyer", CancellationToken.None);
        Assert.Equal(CancelOutcome.Cancelled, outcome);
    }

    private Reconciler Reconciler(int graceMs) => TestReconciler.Create(factory, graceMs);

    private async Task<CampaignDefinition> CampaignAsync(TestSale sale)
        => (await factory.Services.GetRequiredService<CampaignStore>().GetAsync(sale.CampaignId, CancellationToken.None))!;

    private async Task<List<long>> ReserveAsync(TestSale sale, params long[] buyers)
    {
        var orders = new List<long>();
        foreach (var userId in buyers)
        {
            using var buyer = factory.Buyer(userId);
            using var created = await sale.ReserveAsync(buyer, "k");
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            orders.Add(long.Parse((await created.JsonAsync()).GetProperty("orderNo").GetString()!, CultureInfo.InvariantCulture));
        }
        return orders;
    }

    private static string LedgerPath(string campaignId, long skuId) => $"/api/v1/admin/campaigns/{campaignId}/skus/{skuId}/ledger";

    private static async Task<JsonElement> LedgerAsync(HttpClient admin, TestSale sale)
    {
        using var response = await admin.GetAsync(LedgerPath(sale.CampaignId, sale.SkuId));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.JsonAsync();
    }
}
