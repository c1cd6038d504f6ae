using System.Net;
using FlashSale.Engine.Redis;
using FlashSale.Tests.Infrastructure;

namespace FlashSale.Tests.Buckets;

/// <summary>A SKU's <c>buckets</c> through the admin API: stored, read back, idempotent, loaded as buckets by warm-up.</summary>
[Collection(IngressCollection.Name)]
[Trait("Cluster", "yes")]
public sealed class BucketDefinitionTests(IngressFactory factory)
{
    private static string Definition(string id, int? buckets, string admission = "") => $$"""
        {"campaignId":"{{id}}","startsAt":"2026-01-01T00:00:00Z","endsAt":"2030-01-01T00:00:00Z","paymentWindowSeconds":900,
         "skus":[{"skuId":1001,"price":"9.00","stock":10,"perUserLimit":1{{(buckets is { } b ? $",\"buckets\":{b}" : "")}}},
                 {"skuId":1002,"price":"9.00","stock":5,"perUserLimit":1}]{{admission}}}
        """;

    [Fact]
    public async Task BucketsAreStoredAsPartOfTheDefinitionAndLoadedBucketByBucket()
    {
        using var admin = factory.Admin();
        var id = TestSale.NewCampaignId();

        using var created = await admin.PostAsync("/api/v1/admin/campaigns", TestSale.Json(Definition(id, 3)));
        using var again = await admin.PostAsync("/api/v1/admin/campaigns", TestSale.Json(Definition(id, 3)));
        using var other = await admin.PostAsync("/api/v1/admin/campaigns", TestSale.Json(Definition(id, 2)));
        using var none = await admin.PostAsync("/api/v1/admin/campaigns", TestSale.Json(Definition(id, null)));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        await other.AssertProblemAsync(HttpStatusCode.Conflict, "campaign-conflict");
        await none.AssertProblemAsync(HttpStatusCode.Conflict, "campaign-conflict");

        using var warmed = await admin.PostAsync($"/api/v1/admin/campaigns/{id}/warmup", null);
        Assert.Equal(HttpStatusCode.OK, warmed.StatusCode);
        var loaded = (await warmed.JsonAsync()).GetProperty("skus");
        Assert.Equal(10, loaded[0].GetProperty("available").GetInt32());

        var read = await (await admin.GetAsync($"/api/v1/admin/campaigns/{id}")).JsonAsync();
        var split = read.GetProperty("skus")[0];
        Assert.Equal(3, split.GetProperty("buckets").GetInt32());
        Assert.Equal(10, split.GetProperty("stock").GetInt32());
        Assert.Equal(10, split.GetProperty("available").GetInt32());
        Assert.Equal("OnSale", split.GetProperty("state").GetString());
        // A SKU that is not split says nothing of buckets, and keeps its one set of keys.
        Assert.False(read.GetProperty("skus")[1].TryGetProperty("buckets", out _));

        var home = new SkuKeys(id, 1001);
        var shares = await Task.WhenAll(home.AllBuckets(3).Select(async b => (long)await factory.Db.HashGetAsync(b.Meta, MetaFields.Total)));
        Assert.Equal(new long[] { 4, 3, 3 }, shares);
        Assert.All(home.AllBuckets(3), b => Assert.Equal(3, (int)factory.Db.HashGet(b.Meta, MetaFields.Buckets)));
        Assert.False(await factory.Db.KeyExistsAsync(new SkuKeys(id, 1002, 1).Meta));
        Assert.True((await factory.Db.HashGetAsync(new SkuKeys(id, 1002).Meta, MetaFields.Buckets)).IsNull);

        // Loading again is refused while live, and a forced reload keeps each bucket's share.
        using var refused = await admin.PostAsync($"/api/v1/admin/campaigns/{id}/warmup", null);
        await refused.AssertProblemAsync(HttpStatusCode.Conflict, "already-live");
        using var forced = await admin.PostAsync($"/api/v1/admin/campaigns/{id}/warmup?force=true", null);
        Assert.Equal(HttpStatusCode.OK, forced.StatusCode);
        Assert.Equal(shares, await Task.WhenAll(home.AllBuckets(3).Select(async b => (long)await factory.Db.HashGetAsync(b.Meta, MetaFields.Total))));
    }

    [Theory]
    [InlineData(0, "")]
    [InlineData(17, "")]
    [InlineData(2, ""","admission":{"mode":"queue"}""")]
    public async Task BucketsOutOfRangeOrWithAWaitingRoomAreRefusedNamingTheSku(int buckets, string admission)
    {
        using var admin = factory.Admin();
        using var response = await admin.PostAsync("/api/v1/admin/campaigns", TestSale.Json(Definition(TestSale.NewCampaignId(), buckets, admission)));
        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid-campaign");
        Assert.True(problem.GetProperty("errors").TryGetProperty("skus[0]", out var errors), problem.ToString());
        Assert.Contains("buckets", errors.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task BucketsGivenAsAStringAreABadBody()
    {
        using var admin = factory.Admin();
        var body = Definition(TestSale.NewCampaignId(), null).Replace("\"perUserLimit\":1}", "\"perUserLimit\":1,\"buckets\":\"3\"}", StringComparison.Ordinal);
        using var response = await admin.PostAsync("/api/v1/admin/campaigns", TestSale.Json(body));
        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid-body");
    }
}
