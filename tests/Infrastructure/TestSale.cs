using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using FlashSale.Engine.Fencing;
using FlashSale.Engine.Redis;
using StackExchange.Redis;

namespace FlashSale.Tests.Infrastructure;

/// <summary>A campaign with one SKU, unique to the test that made it, created and warmed through the admin API.</summary>
public sealed class TestSale
{
    private readonly IngressFactory _factory;

    private TestSale(IngressFactory factory, string campaignId, long skuId)
    {
        _factory = factory;
        CampaignId = campaignId;
        SkuId = skuId;
    }

    public string CampaignId { get; }

    public long SkuId { get; }

    public SkuKeys Keys => new(CampaignId, SkuId);

    /// <summary>The keys of every stock bucket of the SKU (its own keys alone when it is not split).</summary>
    public SkuKeys[] BucketKeys(int buckets) => Keys.AllBuckets(buckets);

    public string ReservationsPath => $"/api/v1/campaigns/{CampaignId}/skus/{SkuId}/reservations";

    public string QueuePath => $"/api/v1/campaigns/{CampaignId}/skus/{SkuId}/queue";

    public static string NewCampaignId() => "t-" + Guid.NewGuid().ToString("N")[..16];

    public static async Task<TestSale> StartAsync(
        IngressFactory factory,
        int stock,
        int perUserLimit = 1,
        TimeSpan? startsIn = null,
        TimeSpan? endsIn = null,
        bool warm = true,
        string price = "199.00",
        int paymentWindowSeconds = 900,
        string? admission = null,
        string? rateLimits = null,
        int buckets = 1,
        string? coupons = null,
        string? campaignId = null,
        long? skuId = null)
    {
        campaignId ??= NewCampaignId();
        var sku = skuId ?? Random.Shared.NextInt64(1, 1_000_000);
        if (buckets > 1)
        {
            // On a cluster, a SKU whose buckets fall on different masters (on all of them, with as many buckets as masters).
            sku = ClusterSlots.SpreadSku(campaignId, (await RedisTopology.ReadAsync(factory.Redis)).Primaries, buckets, sku);
        }
        var sale = new TestSale(factory, campaignId, sku);
        var now = DateTimeOffset.UtcNow;
        using var admin = factory.Admin();
        var created = await admin.PostAsync("/api/v1/admin/campaigns", Json($$"""
            {
              "campaignId": "{{sale.CampaignId}}",
              "startsAt": "{{Iso(now + (startsIn ?? TimeSpan.FromMinutes(-1)))}}",
              "endsAt": "{{Iso(now + (endsIn ?? TimeSpan.FromHours(1)))}}",
              "paymentWindowSeconds": {{paymentWindowSeconds}},
              "skus": [ { "skuId": {{sale.SkuId}}, "price": "{{price}}", "stock": {{stock}}, "perUserLimit": {{perUserLimit}}{{(buckets == 1 ? "" : $", \"buckets\": {buckets}")}} } ]{{(admission is null ? "" : ",\n  \"admission\": " + admission)}}{{(rateLimits is null ? "" : ",\n  \"rateLimits\": " + rateLimits)}}{{(coupons is null ? "" : ",\n  \"coupons\": " + coupons)}}
            }
            """));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        if (warm)
        {
            var warmed = await admin.PostAsync($"/api/v1/admin/campaigns/{sale.CampaignId}/warmup", null);
            Assert.Equal(HttpStatusCode.OK, warmed.StatusCode);
        }
        return sale;
    }

    public Task<HttpResponseMessage> ReserveAsync(HttpClient buyer, string idempotencyKey, int quantity = 1)
        => ReserveRawAsync(buyer, idempotencyKey, $$"""{"quantity":{{quantity}}}""");

    /// <summary>A reservation with one of the campaign's coupons.</summary>
    public Task<HttpResponseMessage> ReserveWithCouponAsync(HttpClient buyer, string idempotencyKey, string couponId, int quantity = 1)
        => ReserveRawAsync(buyer, idempotencyKey, $$"""{"quantity":{{quantity}},"couponId":"{{couponId}}"}""");

    /// <summary>The keys of one of the campaign's coupon pools.</summary>
    public CouponKeys Pool(string couponId) => new(CampaignId, couponId);

    /// <summary>A coupon pool's field as Redis holds it (available, reserved = locked, sold = redeemed), 0 when absent.</summary>
    public async Task<long> PoolAsync(string couponId, string field = "available")
        => await Db.HashGetAsync(Pool(couponId).Meta, field) is { IsNull: false } value ? (long)value : 0;

    public Task<HttpResponseMessage> ReserveRawAsync(HttpClient buyer, string? idempotencyKey, string body)
        => SendReservationAsync(buyer, ReservationsPath, idempotencyKey, body);

    public static Task<HttpResponseMessage> SendReservationAsync(HttpClient buyer, string path, string? idempotencyKey, string body = """{"quantity":1}""")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = Json(body) };
        if (idempotencyKey is not null)
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
        }
        return buyer.SendAsync(request);
    }

    /// <summary>
    /// As a buyer retries: <see cref="SendReservationAsync"/> again with the same key after a 503 (recovering, not yet durable),
    /// every 250 ms for up to <paramref name="attempts"/> attempts, until an answer that is not one.
    /// </summary>
    public static Task<HttpResponseMessage> SendRetryingUnavailableAsync(HttpClient buyer, string path, string idempotencyKey, string body, int attempts)
        => RetryingUnavailableAsync(() => SendReservationAsync(buyer, path, idempotencyKey, body), response => response.StatusCode, attempts);

    /// <summary>
    /// As a buyer retries: <paramref name="attempt"/> again after a 503 (recovering, not yet durable), every 250 ms for up
    /// to <paramref name="attempts"/> attempts, until an answer that is not one. An outcome given up on is disposed.
    /// </summary>
    public static async Task<T> RetryingUnavailableAsync<T>(Func<Task<T>> attempt, Func<T, HttpStatusCode> status, int attempts)
    {
        var outcome = await attempt();
        for (var tried = 1; status(outcome) == HttpStatusCode.ServiceUnavailable && tried < attempts; tried++)
        {
            (outcome as IDisposable)?.Dispose();
            await Task.Delay(250);
            outcome = await attempt();
        }
        return outcome;
    }

    public async Task<long> AvailableAsync() => (long)await Db.HashGetAsync(Keys.Meta, "available");

    /// <summary>Everything the reservation script writes, to show that a refusal changed nothing.</summary>
    public async Task<string> SnapshotAsync()
    {
        var meta = await Db.HashGetAllAsync(Keys.Meta);
        return string.Join(";",
            string.Join(",", meta.OrderBy(e => e.Name.ToString(), StringComparer.Ordinal).Select(e => $"{e.Name}={e.Value}")),
            string.Join(",", (await Db.HashGetAllAsync(Keys.Users)).Select(e => $"{e.Name}={e.Value}").Order(StringComparer.Ordinal)),
            await Db.HashLengthAsync(Keys.Idempotency),
            await RedisLedger.LengthAsync(Db, Keys),
            await Db.StreamLengthAsync(Keys.Outbox));
    }

    public IDatabase Db => _factory.Db;

    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    public static string Iso(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
}

public static class ResponseAssertions
{
    public static async Task<JsonElement> AssertProblemAsync(this HttpResponseMessage response, HttpStatusCode status, string typeSlug)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.EndsWith("/" + typeSlug, problem.GetProperty("type").GetString(), StringComparison.Ordinal);
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        return problem;
    }

    public static async Task<JsonElement> JsonAsync(this HttpResponseMessage response)
        => await response.Content.ReadFromJsonAsync<JsonElement>();
}
