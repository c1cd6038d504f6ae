using FlashSale.Engine.Auth;
using FlashSale.Ingress.Infrastructure;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace FlashSale.Tests.Unit;

public sealed class TokenValidationCacheTests
{
    private static readonly SecurityKey Key = new SymmetricSecurityKey(new byte[32]);

    // On a whole second, as a token's exp is.
    private readonly FakeTimeProvider _time = new(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()));

    [Fact]
    public void AValidatedTokenIsServedUntilItsExpiry()
    {
        var cache = Cache(maxAgeSeconds: 3600);
        var token = Mint(1, TimeSpan.FromMinutes(10));
        cache.Add(token, Key, Validated(token));

        _time.Advance(TimeSpan.FromMinutes(10) - TimeSpan.FromSeconds(1));
        Assert.True(cache.TryGet(token, Key, out _));

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(cache.TryGet(token, Key, out _));
    }

    [Fact]
    public void ALongLivedTokenIsServedNoLongerThanTheCap()
    {
        var cache = Cache(maxAgeSeconds: 60);
        var token = Mint(1, TimeSpan.FromHours(12));
        cache.Add(token, Key, Validated(token));

        _time.Advance(TimeSpan.FromSeconds(59));
        Assert.True(cache.TryGet(token, Key, out _));

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(cache.TryGet(token, Key, out _));
    }

    [Fact]
    public void ATokenValidatedWithAnotherSigningKeyIsNotServed()
    {
        var cache = Cache();
        var token = Mint(1, TimeSpan.FromHours(1));
        cache.Add(token, Key, Validated(token));

        Assert.False(cache.TryGet(token, new SymmetricSecurityKey(new byte[32]), out _));
    }

    [Fact]
    public void AFailedValidationIsNeverKept()
    {
        var cache = Cache();
        var token = Mint(1, TimeSpan.FromHours(1));
        cache.Add(token, Key, new TokenValidationResult { IsValid = false, SecurityToken = new JsonWebToken(token) });

        Assert.False(cache.TryGet(token, Key, out _));
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void AFloodOfDistinctTokensStaysWithinTheCapacity()
    {
        const int capacity = 100;
        var cache = Cache(capacity: capacity);

        for (var user = 1; user <= 10 * capacity; user++)
        {
            var token = Mint(user, TimeSpan.FromHours(1));
            cache.Add(token, Key, Validated(token));
            Assert.InRange(cache.Count, 1, capacity);
        }
    }

    [Fact]
    public void ATokenInUseSurvivesAFloodOfOthers()
    {
        const int capacity = 20;
        var cache = Cache(capacity: capacity);
        var regular = Mint(1, TimeSpan.FromHours(1));
        cache.Add(regular, Key, Validated(regular));

        for (var user = 2; user <= 10 * capacity; user++)
        {
            var token = Mint(user, TimeSpan.FromHours(1));
            cache.Add(token, Key, Validated(token));
            Assert.True(cache.TryGet(regular, Key, out _), $"lost after {user - 1} other tokens");
        }
    }

    [Fact]
    public void ACapacityOfZeroKeepsNothing()
    {
        var cache = Cache(capacity: 0);
        var token = Mint(1, TimeSpan.FromHours(1));
        cache.Add(token, Key, Validated(token));

        Assert.False(cache.TryGet(token, Key, out _));
    }

    private TokenValidationCache Cache(int capacity = 1000, int maxAgeSeconds = 300)
        => new(Options.Create(new TokenCacheOptions { Capacity = capacity, MaxAgeSeconds = maxAgeSeconds }), _time);

    private string Mint(long userId, TimeSpan lifetime)
        => new TokenIssuer(new AuthOptions { SigningKey = new string('k', 32) }, _time).Mint(userId, lifetime: lifetime);

    private static TokenValidationResult Validated(string token) => new() { IsValid = true, SecurityToken = new JsonWebToken(token) };
}
