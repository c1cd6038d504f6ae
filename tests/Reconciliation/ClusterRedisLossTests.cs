using FlashSale.Engine.Fencing;
using FlashSale.Engine.Redis;
using FlashSale.Tests.Infrastructure;
using FlashSale.Tests.Pipeline;
using StackExchange.Redis;

namespace FlashSale.Tests.Reconciliation;

/// <summary>The engine (two Ingresses, a Persister) on a Redis Cluster of the test's own: three masters that persist only the snapshots the test takes.</summary>
public sealed class ClusterRollbackFixture : TwoIngressFixture
{
    public PrivateCluster Cluster { get; } = new();

    public override string RedisEndpoint => Cluster.ConnectionString;

    protected override Task StartRedisAsync() => Cluster.StartAsync();

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Cluster.DisposeAsync();
    }
}

/// <summary>The same, with a replica of the first master that a test can promote.</summary>
public sealed class ClusterFailoverFixture : TwoIngressFixture
{
    public PrivateCluster Cluster { get; } = new(withReplica: true);

    public override string RedisEndpoint => Cluster.ConnectionString;

    protected override Task StartRedisAsync() => Cluster.StartAsync();

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Cluster.DisposeAsync();
    }
}

/// <summary>
/// The rollback tests of <see cref="RedisRollbackTests"/> and <see cref="ReplicaFailoverTests"/> on a Redis Cluster, where
/// every master has an identity of its own: the master that lost decisions has its SKUs fenced and rebuilt, exactly the
/// stock is sold, and a SKU on another master sells on as if nothing happened. Each test sells two SKUs at once, one on
/// the master that is lost and one on another. Trait Cluster=only: the cluster is the test's own, whatever Redis the
/// suite runs on, so dev/test.sh runs these once, in its cluster pass.
/// </summary>
[Collection(PipelineCollection.Name)]
[Trait("Category", "Slow")]
[Trait("Cluster", "only")]
public sealed class ClusterRollbackTests(ClusterRollbackFixture engine) : IClassFixture<ClusterRollbackFixture>
{
    private const int Stock = 200;
    private const double PerSecond = 20;
    private const int SnapshotAgeMs = 1500;
    private const int Clients = 8;

    [Fact]
    public async Task AMasterRestartedFromAnOlderSnapshotFencesItsOwnSkusOnlyAndTheSaleSellsExactlyTheStock()
    {
        var topology = await RedisTopology.ReadAsync(engine.Redis);
        var campaignId = TestSale.NewCampaignId();
        var (lost, kept) = OnTwoMasters(campaignId, topology, first: 3001);
        await engine.StartSaleAsync(campaignId, 900, (lost.Sku, Stock, 1), (kept.Sku, Stock, 1));
        var victim = engine.Cluster.Node(lost.Master.EndPoint);
        var keys = new SkuKeys(campaignId, lost.Sku);
        var onLost = new PacedSale(engine, () => engine.IngressUrls, campaignId, lost.Sku, PerSecond);
        var onKept = new PacedSale(engine, () => engine.IngressUrls, campaignId, kept.Sku, PerSecond);
        var selling = Task.WhenAll(onLost.RunAsync(Clients, TimeSpan.FromSeconds(150)), onKept.RunAsync(Clients, TimeSpan.FromSeconds(150)));

        // As RedisRollbackTests: the snapshot forgets more units than are left at the kill, so a master that sold again
        // what it forgot would oversell.
        var forgotten = (int)(PerSecond * SnapshotAgeMs / 1000);
        // At the pace, a third of the forgotten units are left at the kill, and never fewer than the purchases that may be
        // in flight when the buyers are held for the snapshot.
        var leftAtKillPaced = Math.Max((int)Math.Ceiling(0.35 * forgotten), Clients + 2);
        var killAt = Stock - leftAtKillPaced;
        await Eventually.HoldsAsync(() => onLost.Acknowledged >= killAt - forgotten || selling.IsCompleted, TimeSpan.FromSeconds(60));
        Task<long> AvailableAsync() => RedisLossMoments.AvailableAsync(engine, keys);
        var availableAtSave = await RedisLossMoments.SnapshotAsync(onLost, () => victim.ExecuteAsync("SAVE"), AvailableAsync);
        await RedisLossMoments.AgeSnapshotAsync(TimeSpan.FromMilliseconds(SnapshotAgeMs), leftAtKillPaced, AvailableAsync);
        await RedisLossMoments.HoldForKillAsync(onLost, availableAtSave, AvailableAsync);
        await victim.KillAsync();
        var restartedAt = DateTime.UtcNow;
        await victim.StartAsync();
        await engine.Cluster.WaitHealthyAsync();
        // The restarted master holds the snapshot: availableAtSave units, of which more were sold before the kill than were left.
        onLost.Resume();

        await selling;
        await RedisLossAssertions.SoldExactlyOnceAsync(engine, onLost, campaignId, lost.Sku, Stock, restartedAt);
        await ClusterAssertions.SoldOnUntouchedAsync(engine, onKept, campaignId, kept.Sku, Stock, lost.Sku);
    }

    /// <summary>A SKU on the master that serves the lowest slots (the one a test loses), and one on another master.</summary>
    internal static ((long Sku, RedisPrimary Master) Lost, (long Sku, RedisPrimary Master) Kept) OnTwoMasters(
        string campaignId, RedisTopology topology, long first, string? lostMaster = null)
    {
        Assert.True(topology.IsCluster, "these tests need a Redis Cluster");
        var lost = topology.Primaries.Single(p => lostMaster is null ? p.Serves(0) : p.EndPoint == lostMaster);
        var kept = topology.Primaries.First(p => p != lost);
        var skus = ClusterSlots.SkusOn(campaignId, [lost, kept], first);
        return ((skus[0], lost), (skus[1], kept));
    }
}

[Collection(PipelineCollection.Name)]
[Trait("Category", "Slow")]
[Trait("Cluster", "only")]
public sealed class ClusterFailoverTests(ClusterFailoverFixture engine) : IClassFixture<ClusterFailoverFixture>
{
    private const int Stock = 200;
    private const double PerSecond = 20;

    /// <summary>
    /// On a cluster the clients follow a failover by themselves: no process is restarted. The promoted replica has a new
    /// replication id, so the SKUs of its slots are fenced and rebuilt; a SKU on another master is never fenced. (A
    /// replica that provably missed decisions cannot be arranged here: a cluster replica cannot be detached with
    /// REPLICAOF NO ONE while its master goes on, as ReplicaFailoverTests does on one server, and a killed master's last
    /// writes still reach it. Lost decisions on a cluster are <see cref="ClusterRollbackTests"/>'.)
    /// </summary>
    [Fact]
    public async Task AReplicaTakingOverADeadMasterFencesThatMastersSkusOnlyAndTheSaleSellsExactlyTheStock()
    {
        var topology = await RedisTopology.ReadAsync(engine.Redis);
        var campaignId = TestSale.NewCampaignId();
        var (lost, kept) = ClusterRollbackTests.OnTwoMasters(campaignId, topology, first: 3101, lostMaster: engine.Cluster.Masters[0].Endpoint);
        await engine.StartSaleAsync(campaignId, 900, (lost.Sku, Stock, 1), (kept.Sku, Stock, 1));
        var onLost = new PacedSale(engine, () => engine.IngressUrls, campaignId, lost.Sku, PerSecond);
        var onKept = new PacedSale(engine, () => engine.IngressUrls, campaignId, kept.Sku, PerSecond);
        var selling = Task.WhenAll(onLost.RunAsync(clients: 8, TimeSpan.FromSeconds(150)), onKept.RunAsync(clients: 8, TimeSpan.FromSeconds(150)));

        await Eventually.HoldsAsync(() => onLost.Acknowledged >= Stock * 6 / 10 || selling.IsCompleted, TimeSpan.FromSeconds(60));
        await engine.Cluster.Masters[0].KillAsync();
        var failedOverAt = DateTime.UtcNow;
        // What the cluster does by itself after cluster-node-timeout; TAKEOVER does it at once, without the dead master.
        await engine.Cluster.Replica!.ExecuteAsync("CLUSTER", "FAILOVER", "TAKEOVER");
        await engine.Cluster.WaitHealthyAsync([.. engine.Cluster.Masters.Skip(1), engine.Cluster.Replica]);

        await selling;
        await RedisLossAssertions.SoldExactlyOnceAsync(engine, onLost, campaignId, lost.Sku, Stock, failedOverAt);
        await ClusterAssertions.SoldOnUntouchedAsync(engine, onKept, campaignId, kept.Sku, Stock, lost.Sku);
    }
}

internal static class ClusterAssertions
{
    /// <summary>
    /// The SKU on a master that lost nothing: sold exactly its stock, each acknowledged order persisted once, no drift,
    /// never fenced (recovery rebuilt the other SKU, <paramref name="rebuilt"/>, and not this one) and never refused
    /// with 503 recovering.
    /// </summary>
    public static async Task SoldOnUntouchedAsync(PipelineFixture engine, PacedSale sale, string campaignId, long sku, int stock, long rebuilt)
    {
        Assert.True(sale.Unexpected.Count == 0, sale.Summary());
        Assert.True(sale.Acknowledged == stock, sale.Summary());
        var successes = sale.Successes();
        var rows = (await engine.DrainAsync(campaignId, successes.Count)).Where(r => r.SkuId == sku).ToList();
        SaleTraffic.AssertExactlyOneRowEach(engine, successes, rows);

        using var admin = engine.Client(engine.Tokens.Mint(1, admin: true));
        var ledger = await Ledger.WaitSettledAsync(admin, campaignId, sku);
        Assert.Equal(0, ledger.GetProperty("drift").GetInt64());
        Assert.Equal(0, ledger.GetProperty("redis").GetProperty("available").GetInt64());

        Assert.Contains($"Recovery: {campaignId}/{rebuilt} rebuilt", engine.Persister.Log, StringComparison.Ordinal);
        Assert.DoesNotContain($"Recovery: {campaignId}/{sku} rebuilt", engine.Persister.Log, StringComparison.Ordinal);
        Assert.True(sale.Recovering == 0, sale.Summary());
    }
}
