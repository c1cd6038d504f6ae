using System.Net;
using FlashSale.Contracts;
using FlashSale.Engine.Campaigns;
using FlashSale.Engine.Kafka;
using FlashSale.Engine.Redis;
using FlashSale.Tests.Infrastructure;

namespace FlashSale.Tests.Coupons;

/// <summary>The coupon pools' contract: the OpenAPI document, routes, the keyspace on a cluster, codecs and definitions.</summary>
[Collection(IngressCollection.Name)]
public sealed class CouponContractTests(IngressFactory factory)
{
    [Fact]
    public async Task TheOpenApiDocumentDescribesCouponsAndTheReservationsCouponId()
    {
        using var client = factory.CreateClient();
        var document = await (await client.GetAsync("/openapi/v1.json")).JsonAsync();
        var paths = document.GetProperty("paths");

        var pool = paths.GetProperty("/api/v1/campaigns/{campaignId}/coupons/{couponId}").GetProperty("get").GetProperty("responses");
        Assert.True(pool.GetProperty("200").GetProperty("content").TryGetProperty("application/json", out _));
        Assert.True(pool.TryGetProperty("404", out _));
        var ledger = paths.GetProperty("/api/v1/admin/campaigns/{campaignId}/coupons/{couponId}/ledger").GetProperty("get").GetProperty("responses");
        Assert.True(ledger.GetProperty("200").GetProperty("content").TryGetProperty("application/json", out _));
        var schemas = document.GetProperty("components").GetProperty("schemas");
        Assert.True(schemas.GetProperty("ReservationBody").GetProperty("properties").TryGetProperty("couponId", out _));
        Assert.True(schemas.GetProperty("ReservationResponse").GetProperty("properties").TryGetProperty("discount", out _));
        Assert.True(schemas.GetProperty("CouponLedgerView").GetProperty("properties").TryGetProperty("inFlight", out _));
        Assert.True(schemas.GetProperty("CampaignBody").GetProperty("properties").TryGetProperty("coupons", out _));
    }

    [Fact]
    public void PathHelpersFillTheCouponTemplates()
    {
        Assert.Equal("/api/v1/campaigns/c-1/coupons/c20", ApiRoutes.CouponPath("c-1", "c20"));
        Assert.Equal("/api/v1/admin/campaigns/c-1/coupons/c20/ledger", ApiRoutes.CouponLedgerPath("c-1", "c20"));
        Assert.Equal("https://flashsale.dev/problems/coupon-unavailable", ProblemTypes.Uri(ProblemTypes.CouponUnavailable));
    }

    [Theory]
    [InlineData("spring-2026", "c20", "")]
    [InlineData("spring-2026", "1001", "test:e3:")]
    public void APoolsKeysShareItsOwnTagsSlotAndNeverASkusTag(string campaignId, string couponId, string prefix)
    {
        var pool = new CouponKeys(campaignId, couponId);
        var slot = HashSlot.Of(pool.Tag);
        Assert.All(pool.All(), key => Assert.Equal(slot, HashSlot.Of(prefix + key.ToString())));
        // A numeric coupon id does not make the pool's tag a SKU's: two colons against one.
        var sku = new SkuKeys(campaignId, long.TryParse(couponId, out var id) ? id : 1);
        Assert.NotEqual(sku.Tag, pool.Tag);
        Assert.Equal(HashSlot.Of(sku.Tag), HashSlot.Of(prefix + CouponKeyspace.CouponsOf(sku).ToString()));
        Assert.True(CouponKeys.TryParseMember(pool.Member, out var parsed));
        Assert.Equal(pool, parsed);
    }

    [Fact]
    public void ABatchRecordCarriesACouponOnlyForTheOrdersThatHaveOne()
    {
        ReservationEvent plain = new(ReservationEvent.CurrentVersion, 11, 7, "c-1", 3, 1, 199_00, 1_000, 2_000, "k1", 5);
        ReservationEvent couponed = new(ReservationEvent.CurrentVersion, 12, 8, "c-1", 3, 2, 378_00, 1_000, 2_000, "k\"2", 6, "c20", 20_00, 17);

        var record = ReservationBatch.Encode("c-1", 3, [plain, couponed]);

        Assert.Equal("""{"version":3,"campaignId":"c-1","skuId":3,"orders":[["11",7,1,19900,1000,2000,5,"k1"],["12",8,2,37800,1000,2000,6,"k\"2","c20",2000,17]]}""",
            System.Text.Encoding.UTF8.GetString(record));
        Assert.Equal([plain, couponed], ReservationBatch.Parse(record));
        Assert.Equal(couponed, ReservationEvent.FromJson(couponed.ToJson()));
        Assert.DoesNotContain("coupon", System.Text.Encoding.UTF8.GetString(plain.ToJson()), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void CouponUsesAndLocksReadAsTheScriptsWriteThem()
    {
        Assert.Equal(new CouponUse("c20", 2000, 17), CouponUse.Parse("c20|2000|17"));
        Assert.Null(CouponUse.Parse(""));
        Assert.Equal("c20|2000|17", new CouponUse("c20", 2000, 17).ToString());
        Assert.Throws<FormatException>(() => CouponUse.Parse("c20|x|1"));
        Assert.Equal(new CouponLock(42, 7, 2000, 1_700_000_000_000, 'T'), CouponLock.Parse("42|7|2000|1700000000000|T"));
        Assert.Throws<FormatException>(() => CouponLock.Parse("42|7|2000|1700000000000|Q"));
    }

    [Fact]
    public void CouponPoolsAreValidatedAndPartOfTheDefinition()
    {
        var start = new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
        var plain = new CampaignDefinition("c-1", start, start.AddHours(2), 900, [new CampaignSku(1, 199m, 10, 1)]);
        var withPool = plain with { Coupons = [new CampaignCoupon("c20", 20m, 100m, 1000, 1)] };

        Assert.Empty(CampaignValidator.Validate(withPool));
        // A campaign without pools keeps the fingerprint it had before pools existed; an empty list is no pools.
        Assert.Equal(plain.Fingerprint(), CampaignValidator.Normalize(plain with { Coupons = [] }).Fingerprint());
        Assert.NotEqual(plain.Fingerprint(), withPool.Fingerprint());
        Assert.NotEqual(withPool.Fingerprint(), (withPool with { Coupons = [new CampaignCoupon("c20", 20m, 100m, 1000, 2)] }).Fingerprint());
        var errors = CampaignValidator.Validate(plain with
        {
            Coupons = [new CampaignCoupon("c20", 0m, 100m, 10, 1), new CampaignCoupon("c 2", 1.001m, -1m, -1, 0), new CampaignCoupon("c20", 5m, 0m, 1, 1)],
        });
        Assert.Contains("coupons", errors.Keys);
        Assert.Contains(errors["coupons[0]"], e => e.StartsWith("discount", StringComparison.Ordinal));
        Assert.Equal(5, errors["coupons[1]"].Length);
    }

    [Fact]
    public async Task ADefinitionWithCouponsIsIdempotentAndAnotherPoolUnderTheSameIdConflicts()
    {
        var sale = await TestSale.StartAsync(factory, stock: 10, warm: false,
            coupons: """[{"couponId":"c20","discount":"20.00","minSpend":100,"quantity":5,"perUserLimit":1}]""");
        using var admin = factory.Admin();
        var view = await (await admin.GetAsync($"/api/v1/admin/campaigns/{sale.CampaignId}")).JsonAsync();
        var coupon = Assert.Single(view.GetProperty("coupons").EnumerateArray());
        Assert.Equal("""{"couponId":"c20","discount":"20.00","minSpend":"100.00","quantity":5,"perUserLimit":1,"available":0,"state":"NotWarmed"}""",
            coupon.GetRawText());

        using var warmed = await admin.PostAsync($"/api/v1/admin/campaigns/{sale.CampaignId}/warmup", null);
        var warmup = await warmed.JsonAsync();
        Assert.Equal("""[{"couponId":"c20","outcome":"Loaded","available":5}]""", warmup.GetProperty("coupons").GetRawText());
        using var again = await admin.PostAsync($"/api/v1/admin/campaigns/{sale.CampaignId}/warmup", null);
        await again.AssertProblemAsync(HttpStatusCode.Conflict, "already-live");
    }
}
