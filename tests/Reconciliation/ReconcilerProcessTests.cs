using System.Globalization;
using System.Net;
using System.Text.Json;
using FlashSale.Engine.Redis;
using FlashSale.Engine.Reservations;
using FlashSale.Tests.Infrastructure;
using FlashSale.Tests.Pipeline;
using StackExchange.Redis;

namespace FlashSale.Tests.Reconciliation;

/// <summary>A Persister whose reconciler runs every 100 ms, as hard as a sale can push it.</summary>
public sealed class BusyReconcilerFixture : PipelineFixture
{
    protected override IEnumerable<(string Key, string Value)> PersisterSettings() =>
    [
        ("Reconciler__IntervalMs", "100"),
        ("Reconciler__GraceMs", "10000"),
        ("Logging__LogLevel__FlashSale.Engine.Reconciliation.ReconcilerService", "Debug"),
    ];
}

/// <summary>An Ingress without its relay (a second one with a relay is started by the test) and no reconciler loop: repairs come from the CLI.</summary>
public sealed class RelayLaterFixture : PipelineFixture
{
    // Answers as soon as Redis decided, and relays nothing: the events wait in the outbox, where a test can lose one
    // before Kafka saw it (with durable acknowledgement the Ingress itself would have sent it before answering).
    protected override IEnumerable<(string Key, string Value)> IngressSettings() => [("Relay__Enabled", "false"), ("Reservations__Acknowledge", "Decided")];

    protected override IEnumerable<(string Key, string Value)> PersisterSettings() => [("Reconciler__Enabled", "false")];
}

[Collection(PipelineCollection.Name)]
[Trait("Category", "Slow")]
[Trait("Cluster", "yes")]
public sealed class BusyReconcilerTests(BusyReconcilerFixture engine) : IClassFixture<BusyReconcilerFixture>
{
    [Fact]
    public async Task ReconcilerEvery100MsDuringASaleRepairsNothingAndEndsWithoutDrift()
    {
        long[] skus = [1101, 1102];
        var campaignId = await engine.StartSaleAsync((1101, 150, 2), (1102, 150, 2));

        var successes = await SaleTraffic.ReserveAsync(engine, campaignId, skus, attempts: 700, buyers: 300);
        var rows = await engine.DrainAsync(campaignId, successes.Count);

        SaleTraffic.AssertExactlyOneRowEach(engine, successes, rows);
        using var admin = engine.Client(engine.Tokens.Mint(1, admin: true));
        foreach (var sku in skus)
        {
            // Demand is three times the stock: both SKUs sell out (1101 one unit a time, 1102 two).
            Assert.Equal(150, rows.Where(r => r.SkuId == sku).Sum(r => r.Quantity));
            var ledger = await Ledger.WaitSettledAsync(admin, campaignId, sku);
            Assert.Equal(0, ledger.GetProperty("drift").GetInt64());
            Assert.Equal(
                ledger.GetProperty("redis").GetProperty("reserved").GetInt64(),
                ledger.GetProperty("db").GetProperty("pending").GetInt64());
        }
        // It ran all along, and never took a reservation on its way for a lost one. A sale over in about a second leaves
        // the 100 ms loop eight or nine rounds on a busy machine: the ten looked at are those of the sale and just after it.
        await Eventually.HoldsAsync(() => Ledger.Rounds(engine.Persister.Log) >= 10, TimeSpan.FromSeconds(10));
        using var persister = new HttpClient { BaseAddress = engine.PersisterUrl };
        var metrics = await PrometheusScrape.FetchAsync(persister);
        Assert.True(metrics.Sum("flashsale_reconciler_run_duration_milliseconds_count") >= 10, metrics.Text);
        Assert.Equal(0, metrics.Sum("flashsale_reconciler_repairs_total"));
        Assert.Equal(0, metrics.Sum("flashsale_reconciler_drift_total"));
        Assert.Equal(0, metrics.Sum("flashsale_reconciler_drift_current"));
        var repairs = engine.Persister.Log.Split('\n').Where(line => line.Contains("Reconciler:", StringComparison.Ordinal)).ToList();
        Assert.True(repairs.Count == 0, string.Join('\n', repairs));
    }
}

[Collection(PipelineCollection.Name)]
[Trait("Category", "Slow")]
[Trait("Cluster", "yes")]
public sealed class LostEventTests(RelayLaterFixture engine) : IClassFixture<RelayLaterFixture>
{
    [Fact]
    public async Task OutboxEntryDeletedBeforeKafkaBecomesItsOrderAfterRepair()
    {
        var campaignId = await engine.StartSaleAsync((1201, 10, 2));
        var keys = new SkuKeys(campaignId, 1201);
        var successes = await SaleTraffic.ReserveAsync(engine, campaignId, [1201], attempts: 5, buyers: 5, parallelism: 5);
        Assert.Equal(5, successes.Count);

        // One outbox entry vanishes before any relay read it, with every reservation of its batch.
        var entry = (await engine.Db.StreamRangeAsync(keys.Outbox)).First();
        var lost = OutboxEntry.Read(entry).OrderNos;
        Assert.Equal(1, await engine.Db.StreamDeleteAsync(keys.Outbox, [entry.Id]));
        await using var relay = EngineProcess.Listening("Relay", "Ingress", engine.Environment(("Engine__NodeId", "3")));
        await relay.StartAsync();
        // DrainAsync returns once the Persister committed all Kafka holds: the lost orders cannot come late.
        await engine.DrainAsync(campaignId, successes.Count - lost.Length);
        Assert.DoesNotContain(await engine.OrdersAsync(campaignId), r => lost.Contains(r.OrderNo));

        // Once they are older than the grace period by Redis's clock, the check names them; the repair re-publishes them.
        var created = LedgerRecord.Parse((await RedisLedger.RecordAsync(engine.Db, keys, lost[^1]))!).CreatedMs;
        await Eventually.HoldsAsync(async () => await engine.RedisNowMsAsync() > created + Warmup.GraceMs, TimeSpan.FromSeconds(10));
        var check = await Warmup.RunAsync(engine, "reconcile", "--campaign", campaignId);
        Assert.True(check.ExitCode == 5, check.Output);
        Assert.Contains("lost-event", check.Output, StringComparison.Ordinal);
        Assert.All(lost, orderNo => Assert.Contains(orderNo.ToString(CultureInfo.InvariantCulture), check.Output, StringComparison.Ordinal));

        var repair = await Warmup.RunAsync(engine, "reconcile", "--campaign", campaignId, "--repair");
        Assert.True(repair.ExitCode == 0, repair.Output);
        var rows = await engine.DrainAsync(campaignId, 5);
        SaleTraffic.AssertExactlyOneRowEach(engine, successes, rows);

        using var admin = engine.Client(engine.Tokens.Mint(1, admin: true));
        var ledger = await Ledger.WaitSettledAsync(admin, campaignId, 1201);
        var units = successes.Sum(s => s.Quantity);
        Assert.Equal(units, ledger.GetProperty("db").GetProperty("pending").GetInt64());
        Assert.Equal(10 - units, ledger.GetProperty("redis").GetProperty("available").GetInt64());
    }
}

internal static class Ledger
{
    /// <summary>The SKU's ledger once nothing is in flight any more.</summary>
    public static async Task<JsonElement> WaitSettledAsync(HttpClient admin, string campaignId, long skuId)
    {
        JsonElement ledger = default;
        await Eventually.HoldsAsync(async () =>
        {
            using var response = await admin.GetAsync($"/api/v1/admin/campaigns/{campaignId}/skus/{skuId}/ledger");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            ledger = await response.JsonAsync();
            return ledger.GetProperty("inFlight").GetInt64() == 0 && ledger.GetProperty("drift").GetInt64() == 0;
        }, TimeSpan.FromSeconds(30));
        return ledger;
    }

    public static int Rounds(string log) => log.Split("Reconciler round:").Length - 1;
}

/// <summary>The Warmup CLI, run from its build output as an operator would.</summary>
internal static class Warmup
{
    /// <summary>The CLI's <c>Reconciler:GraceMs</c>: a reservation older than this, not in the outbox and not in MySQL, is lost.</summary>
    public const int GraceMs = 1_000;

    public static async Task<(int ExitCode, string Output)> RunAsync(PipelineFixture engine, params string[] arguments)
    {
        var run = await ToolProcess.RunAsync(
            ToolProcess.Dll("Warmup", "FlashSale.Warmup.dll"),
            arguments,
            engine.Environment(("DOTNET_ENVIRONMENT", "Production"), ("Reconciler__GraceMs", GraceMs.ToString(CultureInfo.InvariantCulture)), ("COLUMNS", "200")),
            TimeSpan.FromMinutes(2));
        return (run.ExitCode, run.Output);
    }
}

[Collection(PipelineCollection.Name)]
[Trait("Category", "Slow")]
[Trait("Cluster", "yes")]
public sealed class UnreadableLedgerTests(BusyReconcilerFixture engine) : IClassFixture<BusyReconcilerFixture>
{
    [Fact]
    public async Task ACampaignWithUnreadableRedisDataIsSkippedWhileTheOthersAreStillReconciled()
    {
        var broken = await engine.StartSaleAsync((1401, 10, 1));
        // Written behind the engine's back, with its unit counted: the counts disagree with MySQL, so the reconciler reads the ledger.
        await engine.Db.HashSetAsync(LedgerLayout.KeyOf(new SkuKeys(broken, 1401), await LedgerLayout.ShardsAsync(engine.Db, new SkuKeys(broken, 1401)), 1), "1", "not a ledger record");
        await engine.Db.HashIncrementAsync(new SkuKeys(broken, 1401).Meta, MetaFields.Reserved, 1);
        var campaignId = await engine.StartSaleAsync((1402, 10, 1));
        var keys = new SkuKeys(campaignId, 1402);

        // Stock raised behind the engine's back, on the campaign that is readable.
        await engine.Db.HashIncrementAsync(keys.Meta, "available", 5);

        await Eventually.HoldsAsync(async () => (long)await engine.Db.HashGetAsync(keys.Meta, "available") == 10, TimeSpan.FromSeconds(30));
        Assert.Contains($"campaign {broken} has Redis data the reconciler cannot read", engine.Persister.Log, StringComparison.Ordinal);
        Assert.True(engine.Persister.IsRunning, engine.Persister.Log);
    }
}
