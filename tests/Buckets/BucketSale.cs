using System.Globalization;
using System.Net;
using System.Text.Json;
using FlashSale.Engine.Buckets;
using FlashSale.Engine.Redis;
using FlashSale.Tests.Infrastructure;

namespace FlashSale.Tests.Buckets;

/// <summary>A campaign of one SKU split into stock buckets, sold through an engine of real processes.</summary>
public sealed class BucketSale(PipelineFixture engine, string campaignId, long skuId, int buckets)
{
    public string CampaignId { get; } = campaignId;

    public long SkuId { get; } = skuId;

    public SkuKeys[] Buckets { get; } = new SkuKeys(campaignId, skuId).AllBuckets(buckets);

    private string Path => $"/api/v1/campaigns/{CampaignId}/skus/{SkuId}/reservations";

    /// <summary>Creates and warms the campaign through the admin API.</summary>
    public static async Task<BucketSale> StartAsync(PipelineFixture engine, string campaignId, long skuId, int stock, int buckets)
    {
        using var admin = engine.Client(engine.Tokens.Mint(1, admin: true));
        var now = DateTimeOffset.UtcNow;
        using var created = await admin.PostAsync("/api/v1/admin/campaigns", TestSale.Json($$"""
            {"campaignId":"{{campaignId}}","startsAt":"{{TestSale.Iso(now.AddMinutes(-1))}}","endsAt":"{{TestSale.Iso(now.AddHours(1))}}",
             "paymentWindowSeconds":900,"skus":[{"skuId":{{skuId}},"price":"12.50","stock":{{stock}},"perUserLimit":1,"buckets":{{buckets}}}]}
            """));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        using var warmed = await admin.PostAsync($"/api/v1/admin/campaigns/{campaignId}/warmup", null);
        Assert.Equal(HttpStatusCode.OK, warmed.StatusCode);
        return new BucketSale(engine, campaignId, skuId, buckets);
    }

    /// <summary>One attempt of one unit: the status, and the order number of a 201 or 200.</summary>
    public async Task<(HttpStatusCode Status, long OrderNo)> ReserveOnceAsync(HttpClient client, long buyer, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Path) { Content = TestSale.Json("""{"quantity":1}""") };
        request.Headers.Authorization = new("Bearer", engine.Tokens.Mint(buyer));
        request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        using var response = await client.SendAsync(request);
        if (response.StatusCode is not (HttpStatusCode.Created or HttpStatusCode.OK))
        {
            return (response.StatusCode, 0);
        }
        var orderNo = (await response.JsonAsync()).GetProperty("orderNo").GetString()!;
        return (response.StatusCode, long.Parse(orderNo, CultureInfo.InvariantCulture));
    }

    /// <summary>As a buyer retries: the same key again after a 503 (recovering, not yet durable), for up to 90 s, until an answer that is not one.</summary>
    public Task<(HttpStatusCode Status, long OrderNo)> ReserveAsync(HttpClient client, long buyer, string key)
        => TestSale.RetryingUnavailableAsync(() => ReserveOnceAsync(client, buyer, key), outcome => outcome.Status, attempts: 361);

    public async Task<JsonElement> LedgerAsync()
    {
        using var admin = engine.Client(engine.Tokens.Mint(1, admin: true));
        using var response = await admin.GetAsync($"/api/v1/admin/campaigns/{CampaignId}/skus/{SkuId}/ledger");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.JsonAsync();
    }

    public async Task<long[]> AvailableAsync()
        => await Task.WhenAll(Buckets.Select(async b => (long)await engine.Db.HashGetAsync(b.Meta, MetaFields.Available)));

    public async Task<long> OpenTransfersAsync()
        => (await Task.WhenAll(Buckets.Select(b => engine.Db.HashLengthAsync(b.TransfersOpen)))).Sum();

    /// <summary><paramref name="count"/> buyer ids from <paramref name="from"/> on whose bucket is <paramref name="bucket"/>.</summary>
    public List<long> BuyersOf(int bucket, long from, int count)
    {
        var buyers = new List<long>(count);
        for (var id = from; buyers.Count < count; id++)
        {
            if (BucketRouting.BucketOf(id, Buckets.Length) == bucket)
            {
                buyers.Add(id);
            }
        }
        return buyers;
    }
}
