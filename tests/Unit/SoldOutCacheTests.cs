using FlashSale.Engine.Reservations;
using Microsoft.Extensions.Time.Testing;

namespace FlashSale.Tests.Unit;

public sealed class SoldOutCacheTests
{
    private static readonly ReservationRequest Late = new("c", 1, 7, "late-key", 1);

    [Fact]
    public void AnEmptyCacheSendsEveryRequestToRedis()
    {
        var cache = new SoldOutCache(new FakeTimeProvider());

        Assert.False(cache.IsSoldOutFor(Late));
        Assert.True(cache.Renew("c", 1, "5"));
    }

    [Fact]
    public void AStoredSnapshotAnswersSoldOutExceptForBuyersWhoMadeAnOrder()
    {
        var cache = new SoldOutCache(new FakeTimeProvider());
        cache.Store("c", 1, "5", [8]);

        Assert.True(cache.IsSoldOutFor(Late));
        // Redis knows the buyer's keys: a replay gets its order back, a new key is refused there.
        Assert.False(cache.IsSoldOutFor(Late with { UserId = 8, IdempotencyKey = "owner-key" }));
        Assert.False(cache.IsSoldOutFor(Late with { UserId = 8, IdempotencyKey = "another-key" }));
        Assert.False(cache.IsSoldOutFor(Late with { SkuId = 2 }));
    }

    [Fact]
    public void AnEntryGoesStaleAfterItsTtlAndTheSameGenerationRenewsIt()
    {
        var time = new FakeTimeProvider();
        var cache = new SoldOutCache(time);
        cache.Store("c", 1, "5", []);

        time.Advance(SoldOutCache.Ttl + TimeSpan.FromMilliseconds(1));
        Assert.False(cache.IsSoldOutFor(Late));

        Assert.False(cache.Renew("c", 1, "5"));
        Assert.True(cache.IsSoldOutFor(Late));
    }

    [Fact]
    public void ANewStockGenerationOrASignalDropsTheAnswer()
    {
        var cache = new SoldOutCache(new FakeTimeProvider());
        cache.Store("c", 1, "5", []);

        Assert.True(cache.Renew("c", 1, "6"));

        cache.Forget("c", 1);
        Assert.False(cache.IsSoldOutFor(Late));
    }
}
