using System.Diagnostics;
using System.Net;
using FlashSale.Engine.Redis;
using FlashSale.Tests.Infrastructure;
using StackExchange.Redis;

namespace FlashSale.Tests.Admission;

/// <summary>
/// The reservation endpoint's rate limits, on a campaign that defines its own (the in-process Ingress has the deployment's
/// limits off, so only such a campaign is limited): one buyer's flood is cut to the burst, another buyer is not touched,
/// and replays of an order the buyer has always pass.
/// </summary>
[Collection(IngressCollection.Name)]
public sealed class RateLimitTests(IngressFactory factory)
{
    private const int Burst = 20;

    private async Task<(string CampaignId, long SkuId)> StartLimitedSaleAsync(string rateLimits)
    {
        var sale = await TestSale.StartAsync(factory, stock: 10_000, perUserLimit: 1_000, price: "5.00", rateLimits: rateLimits);
        return (sale.CampaignId, sale.SkuId);
    }

    [Fact]
    public async Task OneBuyerFloodingGetsAtMostTheBurstDecidedTheRestRateLimitedWhileAnotherBuyerAndReplaysPass()
    {
        // One token a second: the flood cannot earn back more than a few while it runs.
        var (campaignId, skuId) = await StartLimitedSaleAsync("""{"perBuyer":{"permitsPerSecond":1,"burst":20}}""");
        var path = $"/api/v1/campaigns/{campaignId}/skus/{skuId}/reservations";
        var flooder = Random.Shared.NextInt64(1_000_000, 2_000_000);
        var other = flooder + 1;
        using var flooderClient = factory.Buyer(flooder);
        using var otherClient = factory.Buyer(other);

        using var first = await TestSale.SendReservationAsync(flooderClient, path, "first");
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var firstOrder = (await first.JsonAsync()).GetProperty("orderNo").GetString();

        var clock = Stopwatch.StartNew();
        var flood = Task.WhenAll(Enumerable.Range(0, 200).Select(async i =>
        {
            using var response = await TestSale.SendReservationAsync(flooderClient, path, $"flood-{i}");
            var retryAfter = response.Headers.RetryAfter?.Delta;
            var slug = response.StatusCode == HttpStatusCode.TooManyRequests
                ? (await response.AssertProblemAsync(HttpStatusCode.TooManyRequests, "rate-limited")).GetProperty("type").GetString()
                : null;
            return (response.StatusCode, RetryAfter: retryAfter, Slug: slug);
        }));
        // Another buyer at the same moment, within their own burst: untouched by the first one's flood.
        var others = Task.WhenAll(Enumerable.Range(0, 10).Select(async i =>
        {
            using var response = await TestSale.SendReservationAsync(otherClient, path, $"other-{i}");
            return response.StatusCode;
        }));
        var answers = await flood;
        var elapsed = clock.Elapsed;

        Assert.All(await others, status => Assert.Equal(HttpStatusCode.Created, status));
        var created = answers.Count(a => a.StatusCode == HttpStatusCode.Created);
        var limited = answers.Where(a => a.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.Equal(200, created + limited.Count);
        // The burst less the first request, and at most one more token per second the flood lasted.
        Assert.InRange(created, 1, Burst - 1 + (int)Math.Ceiling(elapsed.TotalSeconds));
        Assert.All(limited, a => Assert.True(a.RetryAfter >= TimeSpan.FromSeconds(1), $"Retry-After {a.RetryAfter}"));

        // A refusal decided nothing: Redis holds exactly the units of the 201s.
        var keys = new SkuKeys(campaignId, skuId);
        var db = factory.Db;
        Assert.Equal(1 + created, await RedisLedger.BoughtAsync(db, keys, flooder));
        Assert.Equal(10, await RedisLedger.BoughtAsync(db, keys, other));

        // With the bucket empty, replays of the order the buyer has still pass, every one (at most a token or two came back meanwhile).
        var replays = await Task.WhenAll(Enumerable.Range(0, 30).Select(async _ =>
        {
            using var response = await TestSale.SendReservationAsync(flooderClient, path, "first");
            var body = await response.JsonAsync();
            return (response.StatusCode, OrderNo: body.GetProperty("orderNo").GetString(),
                Replayed: response.Headers.TryGetValues("Idempotent-Replayed", out var values) && values.Single() == "true");
        }));
        Assert.All(replays, r =>
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.Equal(firstOrder, r.OrderNo);
            Assert.True(r.Replayed);
        });
        Assert.Equal(1 + created, await RedisLedger.BoughtAsync(db, keys, flooder));
    }

    [Fact]
    public async Task ACampaignsCapOnRequestsInFlightRefusesTheRestAtOnceAndDecidesNothingForThem()
    {
        // One request of this campaign in flight at a time, and no per-buyer limit: a burst of 50 at once must meet the cap.
        var (campaignId, skuId) = await StartLimitedSaleAsync("""{"perBuyer":{"permitsPerSecond":0},"concurrency":1}""");
        var path = $"/api/v1/campaigns/{campaignId}/skus/{skuId}/reservations";
        var buyer = Random.Shared.NextInt64(3_000_000, 4_000_000);
        using var client = factory.Buyer(buyer);

        var answers = await Task.WhenAll(Enumerable.Range(0, 50).Select(async i =>
        {
            using var response = await TestSale.SendReservationAsync(client, path, $"c-{i}");
            var detail = response.StatusCode == HttpStatusCode.TooManyRequests
                ? (await response.AssertProblemAsync(HttpStatusCode.TooManyRequests, "rate-limited")).GetProperty("detail").GetString()
                : null;
            return (response.StatusCode, RetryAfter: response.Headers.RetryAfter?.Delta, Detail: detail);
        }));

        var created = answers.Count(a => a.StatusCode == HttpStatusCode.Created);
        var limited = answers.Where(a => a.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.Equal(50, created + limited.Count);
        Assert.NotEmpty(limited);
        Assert.All(limited, a =>
        {
            Assert.Equal(TimeSpan.FromSeconds(1), a.RetryAfter);
            Assert.Contains("in flight", a.Detail, StringComparison.Ordinal);
        });
        Assert.Equal(created, await RedisLedger.BoughtAsync(factory.Db, new SkuKeys(campaignId, skuId), buyer));
        // The cap is on requests in flight, not on a rate: once the burst is answered, the next request passes.
        using var after = await TestSale.SendReservationAsync(client, path, "after");
        Assert.Equal(HttpStatusCode.Created, after.StatusCode);
    }

    [Fact]
    public async Task ACampaignWithoutLimitsOfItsOwnIsNotLimitedWhenTheDeploymentsAreOff()
    {
        var sale = await TestSale.StartAsync(factory, stock: 1000, perUserLimit: 1000);
        using var buyer = factory.Buyer(Random.Shared.NextInt64(2_000_000, 3_000_000));

        var answers = await Task.WhenAll(Enumerable.Range(0, 60).Select(async i =>
        {
            using var response = await sale.ReserveAsync(buyer, $"k-{i}");
            return response.StatusCode;
        }));

        Assert.All(answers, status => Assert.Equal(HttpStatusCode.Created, status));
    }

    [Fact]
    public async Task CampaignRateLimitsAreReadBackAndPartOfTheIdempotentDefinition()
    {
        using var admin = factory.Admin();
        var id = TestSale.NewCampaignId();
        string Definition(string limits) => $$"""
            {"campaignId":"{{id}}","startsAt":"2026-01-01T00:00:00Z","endsAt":"2030-01-01T00:00:00Z","paymentWindowSeconds":900,
             "skus":[{"skuId":1,"price":"1.00","stock":10,"perUserLimit":1}],"rateLimits":{{limits}}}
            """;

        using var created = await admin.PostAsync("/api/v1/admin/campaigns", TestSale.Json(Definition("""{"perBuyer":{"permitsPerSecond":5,"burst":8},"perAddress":{"permitsPerSecond":0},"concurrency":50}""")));
        using var again = await admin.PostAsync("/api/v1/admin/campaigns", TestSale.Json(Definition("""{"concurrency":50,"perAddress":{"permitsPerSecond":0,"burst":0},"perBuyer":{"burst":8,"permitsPerSecond":5}}""")));
        using var different = await admin.PostAsync("/api/v1/admin/campaigns", TestSale.Json(Definition("""{"perBuyer":{"permitsPerSecond":5,"burst":9},"concurrency":50}""")));
        using var read = await admin.GetAsync($"/api/v1/admin/campaigns/{id}");

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        await different.AssertProblemAsync(HttpStatusCode.Conflict, "campaign-conflict");
        var limits = (await read.JsonAsync()).GetProperty("rateLimits");
        Assert.Equal(5, limits.GetProperty("perBuyer").GetProperty("permitsPerSecond").GetInt32());
        Assert.Equal(8, limits.GetProperty("perBuyer").GetProperty("burst").GetInt32());
        Assert.Equal(0, limits.GetProperty("perAddress").GetProperty("permitsPerSecond").GetInt32());
        Assert.Equal(50, limits.GetProperty("concurrency").GetInt32());
    }

    [Theory]
    [InlineData("""{"perBuyer":{"permitsPerSecond":5}}""", "rateLimits.perBuyer")]
    [InlineData("""{"perAddress":{"permitsPerSecond":-1,"burst":5}}""", "rateLimits.perAddress")]
    [InlineData("""{"concurrency":0}""", "rateLimits.concurrency")]
    public async Task InvalidCampaignRateLimitsAreBadRequestNamingTheFieldAndStoreNothing(string limits, string field)
    {
        using var admin = factory.Admin();
        var id = TestSale.NewCampaignId();

        using var response = await admin.PostAsync("/api/v1/admin/campaigns", TestSale.Json($$"""
            {"campaignId":"{{id}}","startsAt":"2026-01-01T00:00:00Z","endsAt":"2030-01-01T00:00:00Z","paymentWindowSeconds":900,
             "skus":[{"skuId":1,"price":"1.00","stock":10,"perUserLimit":1}],"rateLimits":{{limits}}}
            """));

        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid-campaign");
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
        using var read = await admin.GetAsync($"/api/v1/admin/campaigns/{id}");
        Assert.Equal(HttpStatusCode.NotFound, read.StatusCode);
    }
}
