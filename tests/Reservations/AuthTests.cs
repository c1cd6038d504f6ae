using System.Net;
using FlashSale.Engine.Auth;
using FlashSale.Tests.Infrastructure;

namespace FlashSale.Tests.Reservations;

[Collection(IngressCollection.Name)]
public sealed class AuthTests(IngressFactory factory)
{
    public static TheoryData<string> BadTokens => new()
    {
        "not-a-jwt",
        // Signed with another key.
        new TokenIssuer(new AuthOptions { SigningKey = "another-key-another-key-another-key-0123", Issuer = "flashsale", Audience = "flashsale" }, TimeProvider.System).Mint(5),
        // Right key, wrong audience.
        new TokenIssuer(new AuthOptions { SigningKey = TestEnvironment.SigningKey, Issuer = "flashsale", Audience = "someone-else" }, TimeProvider.System).Mint(5),
        // Right key, expired an hour ago.
        new TokenIssuer(new AuthOptions { SigningKey = TestEnvironment.SigningKey, Issuer = "flashsale", Audience = "flashsale" },
            new ShiftedTime(TimeSpan.FromHours(-3))).Mint(5, lifetime: TimeSpan.FromHours(2)),
    };

    [Fact]
    public async Task ReserveWithoutTokenIsUnauthorizedAndChangesNothing()
    {
        var sale = await TestSale.StartAsync(factory, stock: 5);
        using var anonymous = factory.CreateClient();
        var before = await sale.SnapshotAsync();

        using var response = await sale.ReserveAsync(anonymous, "k");

        await response.AssertProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
        Assert.Equal(before, await sale.SnapshotAsync());
    }

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task ReserveWithBadTokenIsUnauthorized(string token)
    {
        var sale = await TestSale.StartAsync(factory, stock: 5);
        using var client = factory.Authorized(token);
        var before = await sale.SnapshotAsync();

        using var response = await sale.ReserveAsync(client, "k");

        await response.AssertProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
        Assert.Equal(before, await sale.SnapshotAsync());
    }

    [Fact]
    public async Task TokenWhoseSubjectIsNotAUserIdCannotReserve()
    {
        var sale = await TestSale.StartAsync(factory, stock: 5);
        using var client = factory.Authorized(factory.Tokens.Mint(0));

        using var response = await sale.ReserveAsync(client, "k");

        await response.AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        Assert.Equal(5, await sale.AvailableAsync());
    }

    [Theory]
    [InlineData("POST", "/api/v1/admin/campaigns")]
    [InlineData("GET", "/api/v1/admin/campaigns/any")]
    [InlineData("POST", "/api/v1/admin/campaigns/any/warmup")]
    public async Task BuyerOnAdminEndpointIsForbidden(string method, string path)
    {
        using var buyer = factory.Buyer(42);

        using var response = await buyer.SendAsync(new HttpRequestMessage(new HttpMethod(method), path) { Content = TestSale.Json("{}") });

        await response.AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden");
    }

    [Fact]
    public async Task AdminEndpointWithoutTokenIsUnauthorized()
    {
        using var anonymous = factory.CreateClient();

        using var response = await anonymous.GetAsync("/api/v1/admin/campaigns/any");

        await response.AssertProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
    }

    private sealed class ShiftedTime(TimeSpan shift) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + shift;
    }
}
