using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using FlashSale.Engine.Buckets;
using FlashSale.Engine.Campaigns;
using FlashSale.Engine.Redis;

namespace FlashSale.Tests.Unit;

/// <summary>Stock buckets: the keys, the routing of buyers, the spread of the stock, and the definition's <c>buckets</c>.</summary>
public sealed class BucketUnitTests
{
    [Fact]
    public void ASkuThatIsNotSplitAndBucketZeroKeepTheKeysEverySkuHad()
    {
        var sku = new SkuKeys("spring-2026", 1001);
        Assert.Equal("fs:{spring-2026:1001}:meta", sku.Meta.ToString());
        Assert.Equal("spring-2026:1001", sku.Member);
        Assert.Equal(sku, sku.InBucket(0));
        Assert.Equal(sku.All(), sku.AllBuckets(1)[0].All());

        var third = sku.InBucket(2);
        Assert.Equal("fs:{spring-2026:1001:2}:ledger", third.Ledger.ToString());
        Assert.Equal("spring-2026:1001:2", third.Member);
        Assert.Equal("spring-2026:1001", third.SkuMember);
        Assert.Equal(sku, third.Home);
        // Every bucket a slot of its own, each bucket's keys in one slot.
        Assert.Equal(3, sku.AllBuckets(3).Select(b => HashSlot.Of(b.Tag)).Distinct().Count());
        Assert.All(third.All(), key => Assert.Equal(HashSlot.Of(third.Tag), HashSlot.Of(key.ToString())));
    }

    [Theory]
    [InlineData("spring-2026:1001", "spring-2026", 1001, 0)]
    [InlineData("spring-2026:1001:2", "spring-2026", 1001, 2)]
    [InlineData("a_b-c:7:15", "a_b-c", 7, 15)]
    public void LiveMembersOfBucketsReadBack(string member, string campaignId, long skuId, int bucket)
    {
        Assert.True(SkuKeys.TryParseMember(member, out var keys));
        Assert.Equal(new SkuKeys(campaignId, skuId, bucket), keys);
        Assert.Equal(member, keys.Member);
    }

    [Theory]
    [InlineData("spring-2026")]
    [InlineData("spring-2026:x")]
    [InlineData("spring-2026:1:0")]
    [InlineData("spring-2026:1:-1")]
    [InlineData("spring-2026:1:b")]
    [InlineData(":1")]
    public void MalformedMembersAreLeftOut(string member) => Assert.False(SkuKeys.TryParseMember(member, out _));

    [Fact]
    public void ABuyersBucketNeverChanges()
    {
        // Pinned: a change of the hash would move buyers away from their orders, counts and keys in a running sale.
        Assert.Equal([2, 1, 0, 1, 2, 2, 0, 1], Enumerable.Range(1, 8).Select(u => BucketRouting.BucketOf(u, 3)).ToArray());
        Assert.Equal([1, 14, 13], new long[] { 1, 2, 3 }.Select(u => BucketRouting.BucketOf(u, 16)).ToArray());
        Assert.Equal(0, BucketRouting.BucketOf(42, 1));
        Assert.All(Enumerable.Range(1, 1000), u => Assert.InRange(BucketRouting.BucketOf(u, 16), 0, 15));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(16)]
    public void ConsecutiveBuyersSpreadEvenly(int buckets)
    {
        const int buyers = 30_000;
        var counts = new int[buckets];
        for (var u = 5_000_001L; u <= 5_000_000 + buyers; u++)
        {
            counts[BucketRouting.BucketOf(u, buckets)]++;
        }
        Assert.All(counts, c => Assert.InRange(c, buyers / buckets * 0.93, buyers / buckets * 1.07));
        // Nor do buyers of one order shard (userId % 64) crowd into one bucket.
        var shard = Enumerable.Range(0, 3_000).Select(i => 64L * i + 5).GroupBy(u => BucketRouting.BucketOf(u, buckets)).Select(g => g.Count()).ToList();
        Assert.Equal(buckets, shard.Count);
        Assert.All(shard, c => Assert.InRange(c, 3_000 / buckets * 0.8, 3_000 / buckets * 1.2));
    }

    [Theory]
    [InlineData(100, 3, new[] { 34, 33, 33 })]
    [InlineData(2, 3, new[] { 1, 1, 0 })]
    [InlineData(0, 2, new[] { 0, 0 })]
    [InlineData(7, 1, new[] { 7 })]
    public void WarmUpSpreadsTheStockEvenly(int total, int buckets, int[] shares) => Assert.Equal(shares, BucketRouting.Spread(total, buckets));

    private static CampaignDefinition Campaign(int buckets, AdmissionSettings? admission = null) => new(
        "buckets", DateTimeOffset.Parse("2026-01-01T00:00:00Z"), DateTimeOffset.Parse("2026-01-01T01:00:00Z"),
        900, [new CampaignSku(1, 1.00m, 100, 1, buckets)], Admission: admission);

    [Fact]
    public void BucketsArePartOfTheFingerprintOnlyWhenTheSkuIsSplit()
    {
        static string Sha(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
        // A SKU that is not split keeps the digest every definition had before buckets existed: sent again, it is the same.
        Assert.Equal(Sha("buckets|1767225600000|1767229200000|900|1:1.00:100:1"), Campaign(1).Fingerprint());
        Assert.Equal(Sha("buckets|1767225600000|1767229200000|900|1:1.00:100:1:buckets=3"), Campaign(3).Fingerprint());
        Assert.NotEqual(Campaign(3).Fingerprint(), Campaign(4).Fingerprint());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(17)]
    public void BucketsOutOfRangeAreNamedByTheSkusField(int buckets)
    {
        var errors = CampaignValidator.Validate(Campaign(buckets));
        Assert.Equal(["skus[0]"], errors.Keys);
        Assert.Contains(errors["skus[0]"], e => e.StartsWith("buckets must be between 1 and 16", StringComparison.Ordinal));
    }

    [Fact]
    public void BucketsWithinRangeAreValidButNotWithAWaitingRoom()
    {
        Assert.Empty(CampaignValidator.Validate(Campaign(1)));
        Assert.Empty(CampaignValidator.Validate(Campaign(16)));
        Assert.Empty(CampaignValidator.Validate(Campaign(1, new AdmissionSettings("queue"))));
        var errors = CampaignValidator.Validate(Campaign(2, new AdmissionSettings("queue")));
        Assert.Contains(errors["skus[0]"], e => e.Contains("waiting room", StringComparison.Ordinal));
    }

    [Fact]
    public void ADefinitionWithoutBucketsReadsAsOneBucket()
    {
        var sku = JsonSerializer.Deserialize<CampaignSku>("""{"skuId":1,"price":"1.00","stock":5,"perUserLimit":1}""", JsonSerializerOptions.Web)!;
        Assert.Equal(1, sku.Buckets);
        Assert.Equal(4, JsonSerializer.Deserialize<CampaignSku>("""{"skuId":1,"price":"1.00","stock":5,"perUserLimit":1,"buckets":4}""", JsonSerializerOptions.Web)!.Buckets);
    }
}
