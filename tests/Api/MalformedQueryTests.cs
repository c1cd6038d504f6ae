using System.Net;
using FlashSale.Tests.Infrastructure;

namespace FlashSale.Tests.Api;

/// <summary>
/// Query parameters that do not parse are a 400 naming the parameter, in Development (where the
/// framework throws) as in any other environment (where it would answer a bare 400).
/// </summary>
public abstract class MalformedQueryTests(IngressFactory factory)
{
    [Theory]
    [InlineData("/api/v1/orders?limit=abc")]
    [InlineData("/api/v1/orders?limit=2147483648")]
    [InlineData("/api/v1/orders?limit=1.5")]
    [InlineData("/api/v1/orders?limit=10&limit=20")]
    [InlineData("/api/v1/admin/payments?limit=abc")]
    [InlineData("/api/v1/admin/payments?limit=-2147483649")]
    public async Task UnparsableLimitIsBadRequestNamingIt(string path)
    {
        using var admin = factory.Admin();

        using var response = await admin.GetAsync(path);

        await AssertNamesParameterAsync(response, "limit", "a whole number");
    }

    [Theory]
    [InlineData("maybe")]
    [InlineData("1")]
    [InlineData("true&force=false")]
    public async Task UnparsableForceIsBadRequestAndLoadsNothing(string force)
    {
        var sale = await TestSale.StartAsync(factory, stock: 5, warm: false);
        using var admin = factory.Admin();

        using var response = await admin.PostAsync($"/api/v1/admin/campaigns/{sale.CampaignId}/warmup?force={force}", null);

        await AssertNamesParameterAsync(response, "force", "true or false");
        Assert.False(await sale.Db.KeyExistsAsync(sale.Keys.Meta));
    }

    [Fact]
    public async Task WellFormedParametersStillWork()
    {
        var sale = await TestSale.StartAsync(factory, stock: 5, warm: false);
        using var admin = factory.Admin();

        using var orders = await admin.GetAsync("/api/v1/orders?limit=5");
        using var payments = await admin.GetAsync("/api/v1/admin/payments?limit=5");
        using var warmed = await admin.PostAsync($"/api/v1/admin/campaigns/{sale.CampaignId}/warmup?force=TRUE", null);

        Assert.Equal(HttpStatusCode.OK, orders.StatusCode);
        Assert.Equal(HttpStatusCode.OK, payments.StatusCode);
        Assert.Equal(HttpStatusCode.OK, warmed.StatusCode);
        using var outOfRange = await admin.GetAsync("/api/v1/orders?limit=0");
        await outOfRange.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid-limit");
    }

    private static async Task AssertNamesParameterAsync(HttpResponseMessage response, string parameter, string expectation)
    {
        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid-" + parameter);
        Assert.Equal(parameter, problem.GetProperty("parameter").GetString());
        Assert.Equal($"'{parameter}' must be {expectation}, given once.", problem.GetProperty("detail").GetString());
    }
}

[Collection(IngressCollection.Name)]
public sealed class MalformedQueryInTestingTests(IngressFactory factory) : MalformedQueryTests(factory);

[Collection(DevelopmentIngressCollection.Name)]
public sealed class MalformedQueryInDevelopmentTests(DevelopmentIngressFactory factory) : MalformedQueryTests(factory);
