using System.Net;
using FlashSale.Contracts;
using FlashSale.Engine.Auth;
using FlashSale.Ingress.Infrastructure;
using FlashSale.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace FlashSale.Tests.Api;

/// <summary>
/// The Ingress's cache of validated bearer tokens, on a host whose clock the tests move: a cached token
/// must stop working when it expires, and only the exact token that validated may be served from it.
/// </summary>
[Collection(FakeClockIngressCollection.Name)]
public sealed class TokenCacheTests(FakeClockIngressFactory factory)
{
    private static readonly string OrdersPath = ApiRoutes.OrdersPath(1);

    [Fact]
    public async Task ATokenCachedWhileValidIsRefusedOnceExpired()
    {
        var token = factory.Tokens.Mint(NewBuyer(), lifetime: TimeSpan.FromMinutes(2));
        using var client = factory.Authorized(token);

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(OrdersPath)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(OrdersPath)).StatusCode);
        Assert.True(factory.Cache.TryGet(token, factory.SigningKey, out _), "the token was not cached");

        // Past the expiry and the 30 s of clock skew the validator allows.
        factory.Clock.Advance(TimeSpan.FromMinutes(2) + TimeSpan.FromSeconds(31));

        using var response = await client.GetAsync(OrdersPath);
        await response.AssertProblemAsync(HttpStatusCode.Unauthorized, ProblemTypes.Unauthorized);
    }

    [Fact]
    public async Task ATokenWithAnotherSignatureIsNotAcceptedBecauseTheGenuineOneIsCached()
    {
        var token = factory.Tokens.Mint(NewBuyer());
        using var genuine = factory.Authorized(token);
        Assert.Equal(HttpStatusCode.OK, (await genuine.GetAsync(OrdersPath)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await genuine.GetAsync(OrdersPath)).StatusCode);
        Assert.True(factory.Cache.TryGet(token, factory.SigningKey, out _), "the token was not cached");

        var lastDot = token.LastIndexOf('.');
        var forged = token[..(lastDot + 1)] + new string('A', token.Length - lastDot - 1);
        using var forger = factory.Authorized(forged);

        using var response = await forger.GetAsync(OrdersPath);
        await response.AssertProblemAsync(HttpStatusCode.Unauthorized, ProblemTypes.Unauthorized);
    }

    [Fact]
    public async Task AnotherBuyersPayloadUnderACachedTokensSignatureIsRefused()
    {
        var mine = factory.Tokens.Mint(NewBuyer()).Split('.');
        var theirs = factory.Tokens.Mint(NewBuyer()).Split('.');
        using var genuine = factory.Authorized(string.Join('.', mine));
        Assert.Equal(HttpStatusCode.OK, (await genuine.GetAsync(OrdersPath)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await genuine.GetAsync(OrdersPath)).StatusCode);
        Assert.True(factory.Cache.TryGet(string.Join('.', mine), factory.SigningKey, out _), "the token was not cached");

        using var forger = factory.Authorized($"{mine[0]}.{theirs[1]}.{mine[2]}");

        using var response = await forger.GetAsync(OrdersPath);
        await response.AssertProblemAsync(HttpStatusCode.Unauthorized, ProblemTypes.Unauthorized);
    }

    [Fact]
    public async Task TheBuyerOfACachedTokenIsItsOwnSubject()
    {
        var buyer = NewBuyer();
        var token = factory.Tokens.Mint(buyer);
        using var client = factory.Authorized(token);

        // Kept from its second validation on (the doorkeeper): a one-shot token is never held.
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(OrdersPath)).StatusCode);
        Assert.False(factory.Cache.TryGet(token, factory.SigningKey, out _));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(OrdersPath)).StatusCode);

        Assert.True(factory.Cache.TryGet(token, factory.SigningKey, out var cached));
        Assert.Equal(buyer, Assert.IsType<BuyerIdentity>(cached.ClaimsIdentity).BuyerId);
    }

    private static long NewBuyer() => Random.Shared.NextInt64(1_000_000, 1_000_000_000);
}

/// <summary>
/// The in-process Ingress on a <see cref="FakeTimeProvider"/> that starts at the real time. Like
/// <see cref="DevelopmentIngressFactory"/> it is not disposed before the process ends (see there why).
/// </summary>
public sealed class FakeClockIngressFactory : IngressFactory
{
    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);

    public TokenValidationCache Cache => Services.GetRequiredService<TokenValidationCache>();

    /// <summary>The key instance the bearer handler validates with, which cache entries are tied to.</summary>
    public Microsoft.IdentityModel.Tokens.SecurityKey SigningKey
        => Services.GetRequiredService<Microsoft.Extensions.Options.IOptionsMonitor<Microsoft.AspNetCore.Authentication.JwtBearer.JwtBearerOptions>>()
            .Get(Microsoft.AspNetCore.Authentication.JwtBearer.JwtBearerDefaults.AuthenticationScheme).TokenValidationParameters.IssuerSigningKey;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        // A host whose clock stands still would hold the waiting rooms' admitting lease between its (fake) ticks.
        builder.UseSetting("Admission:AdmitterEnabled", "false");
        builder.ConfigureTestServices(services => services.AddSingleton<TimeProvider>(Clock));
    }

#pragma warning disable CA2215 // Deliberately left to the end of the process; see the summary.
    public override ValueTask DisposeAsync() => ValueTask.CompletedTask;
#pragma warning restore CA2215
}

[CollectionDefinition(Name)]
public sealed class FakeClockIngressCollection : ICollectionFixture<FakeClockIngressFactory>
{
    public const string Name = "ingress-fake-clock";
}
