using System.Net;
using FlashSale.Tests.Infrastructure;

namespace FlashSale.Tests.Reservations;

/// <summary>The decision sequence and the fence, driven through the real script: a Redis that forgot decisions decides nothing.</summary>
[Collection(IngressCollection.Name)]
[Trait("Cluster", "yes")]
public sealed class FencingTests(IngressFactory factory)
{
    [Fact]
    public async Task ARedisBehindTheSequenceAnIngressSawFencesTheSkuAndDecidesNothing()
    {
        var sale = await TestSale.StartAsync(factory, stock: 10, perUserLimit: 5);
        using var buyer = factory.Buyer(6101);
        using var first = await sale.ReserveAsync(buyer, "f-1");
        using var second = await sale.ReserveAsync(buyer, "f-2");
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        Assert.Equal(2, (long)await sale.Db.HashGetAsync(sale.Keys.Meta, "seq"));

        // What a restore from an older snapshot looks like to this Ingress: the sequence it saw (2) is gone.
        await sale.Db.HashSetAsync(sale.Keys.Meta, "seq", 1);
        using var refused = await sale.ReserveAsync(buyer, "f-3");

        await refused.AssertProblemAsync(HttpStatusCode.ServiceUnavailable, "recovering");
        Assert.True(refused.Headers.RetryAfter is not null);
        Assert.Equal(8, await sale.AvailableAsync());
        Assert.False((await sale.Db.HashGetAsync(sale.Keys.Meta, "fenced")).IsNull);

        // Fenced, the SKU refuses every new decision, also once the sequence is back; known orders still replay.
        await sale.Db.HashSetAsync(sale.Keys.Meta, "seq", 2);
        using var other = factory.Buyer(6102);
        using var stillRefused = await sale.ReserveAsync(other, "f-4");
        await stillRefused.AssertProblemAsync(HttpStatusCode.ServiceUnavailable, "recovering");
        using var replay = await sale.ReserveAsync(buyer, "f-1");
        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        Assert.Equal(8, await sale.AvailableAsync());
    }

    [Fact]
    public async Task ASkuRebuiltInANewerEpochSellsAgainAndARedisBackAtAnOlderEpochIsFenced()
    {
        var sale = await TestSale.StartAsync(factory, stock: 10, perUserLimit: 5);
        using var buyer = factory.Buyer(6201);
        using var first = await sale.ReserveAsync(buyer, "e-1");
        using var second = await sale.ReserveAsync(buyer, "e-2");
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        var epoch = (long)await sale.Db.HashGetAsync(sale.Keys.Meta, "epoch");
        Assert.True(epoch > 0);

        // What a recovery leaves: a newer epoch whose sequence may be below what this Ingress remembers.
        await sale.Db.HashSetAsync(sale.Keys.Meta, [new("epoch", epoch + 1_000), new("seq", 1)]);
        using var afterRecovery = await sale.ReserveAsync(buyer, "e-3");
        Assert.Equal(HttpStatusCode.Created, afterRecovery.StatusCode);

        // A Redis back at the older epoch lost the recovery and everything since: fenced, whatever its sequence.
        await sale.Db.HashSetAsync(sale.Keys.Meta, [new("epoch", epoch), new("seq", 50)]);
        using var behind = await sale.ReserveAsync(buyer, "e-4");
        await behind.AssertProblemAsync(HttpStatusCode.ServiceUnavailable, "recovering");
        Assert.Equal(7, await sale.AvailableAsync());
    }
}
