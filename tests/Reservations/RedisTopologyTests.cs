using FlashSale.Engine.Fencing;
using FlashSale.Engine.Redis;
using FlashSale.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace FlashSale.Tests.Reservations;

/// <summary>
/// What the fencing watch reads of the Redis the tests run on: one server, or (FLASHSALE_REDIS_MODE=cluster) every master
/// of the cluster with its slots and its own identity, and for each SKU the master that really holds its keys.
/// </summary>
[Collection(IngressCollection.Name)]
[Trait("Cluster", "yes")]
public sealed class RedisTopologyTests(IngressFactory factory)
{
    [Fact]
    public async Task EveryPrimaryIsReadWithItsIdentityAndEachSkuWithTheMasterThatHoldsIt()
    {
        var topology = await RedisTopology.ReadAsync(factory.Redis);

        Assert.Equal(TestEnvironment.IsCluster, topology.IsCluster);
        Assert.Equal(topology.Identity, await RedisIdentity.ReadAsync(factory.Redis));
        if (!topology.IsCluster)
        {
            var only = Assert.Single(topology.Primaries);
            Assert.Null(only.Slots);
            Assert.Equal([only.Identity], topology.Identity.Members);
            return;
        }

        Assert.Equal(3, topology.Primaries.Count);
        Assert.Equal(HashSlot.Count, topology.Primaries.Sum(p => p.Slots!.Sum(r => r.Count)));
        Assert.Equal(3, topology.Identity.Members.Count);
        foreach (var primary in topology.Primaries)
        {
            // The identity is the one that master itself reports, not whichever node answered first.
            var node = factory.Redis.GetServer(primary.EndPoint);
            var info = (string?)await node.ExecuteAsync("INFO", "server");
            Assert.Contains($"run_id:{primary.Identity.RunId}", info, StringComparison.Ordinal);
            Assert.Contains(primary.Identity, topology.Identity.Members);
        }
        for (var skuId = 1; skuId <= 30; skuId++)
        {
            var sku = new SkuKeys("topology", skuId);
            var holder = factory.Db.IdentifyEndpoint(sku.Meta)!;
            Assert.Equal(EndPointCollection.ToString(holder), topology.PrimaryOf(sku).EndPoint);
        }
    }

    [Fact]
    public async Task TheWatchHasOpenedTheGateOnTheRedisItRunsOn()
    {
        var gate = factory.Services.GetRequiredService<RedisIdentityGate>();
        await Eventually.HoldsAsync(() => gate.IsOpen);
        var sale = await TestSale.StartAsync(factory, stock: 1);
        Assert.True(gate.IsOpenFor(sale.Keys));
    }
}
