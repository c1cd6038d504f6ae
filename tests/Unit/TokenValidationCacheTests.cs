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
        Keep(cache, token);

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
        Keep(cache, token);

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
        Keep(cache, token);

        Assert.False(cache.TryGet(token, new SymmetricSecurityKey(new byte[32]), out _));
    }

    [Fact]
    public void AFailedValidationIsNeverKept()
    {
        var cache = Cache();
        var token = Mint(1, TimeSpan.FromHours(1));
        var failed = new TokenValidationResult { IsValid = false, SecurityToken = new JsonWebToken(token) };

        Assert.False(cache.Add(token, Key, failed));
        Assert.False(cache.Add(token, Key, failed));
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
            Keep(cache, token);
            Assert.InRange(cache.Count, 1, capacity);
        }
    }

    [Fact]
    public void ATokenInUseSurvivesAFloodOfOthers()
    {
        const int capacity = 20;
        var cache = Cache(capacity: capacity);
        var regular = Mint(1, TimeSpan.FromHours(1));
        Keep(cache, regular);

        for (var user = 2; user <= 10 * capacity; user++)
        {
            var token = Mint(user, TimeSpan.FromHours(1));
            Keep(cache, token);
            Assert.True(cache.TryGet(regular, Key, out _), $"lost after {user - 1} other tokens");
        }
    }

    [Fact]
    public void ACapacityOfZeroKeepsNothing()
    {
        var cache = Cache(capacity: 0);
        var token = Mint(1, TimeSpan.FromHours(1));

        Assert.False(cache.Add(token, Key, Validated(token)));
        Assert.False(cache.Add(token, Key, Validated(token)));
        Assert.False(cache.TryGet(token, Key, out _));
    }

    [Fact]
    public void ATokenIsKeptFromItsSecondValidation()
    {
        var cache = Cache();
        var token = Mint(1, TimeSpan.FromHours(1));

        Assert.False(cache.Add(token, Key, Validated(token)));
        Assert.False(cache.TryGet(token, Key, out _));
        Assert.Equal(0, cache.Count);

        Assert.True(cache.Add(token, Key, Validated(token)));
        Assert.True(cache.TryGet(token, Key, out _));
    }

    [Fact]
    public void AFloodOfOneShotTokensKeepsNothing()
    {
        const int capacity = 100;
        var cache = Cache(capacity: capacity);

        // Distinct tokens, each validated once: the doorkeeper remembers them, the cache holds none. (A second token
        // with both the slot and the whole 32-bit hash of the one before it would be admitted: about one in 4 billion.)
        for (var user = 1; user <= 10 * capacity; user++)
        {
            var token = Mint(user, TimeSpan.FromHours(1));
            Assert.False(cache.Add(token, Key, Validated(token)), $"token {user} was kept on its first validation");
        }
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public async Task TheHandlerAnswersAndKeepsTheIdentityAndTheTokensLifetimeWithoutTheParsedToken()
    {
        var cache = Cache();
        var handler = new CachingTokenHandler(new JsonWebTokenHandler { MapInboundClaims = false }, cache);
        var auth = new AuthOptions { SigningKey = new string('k', 32) };
        var parameters = new TokenValidationParameters
        {
            ValidIssuer = auth.Issuer,
            ValidAudience = auth.Audience,
            IssuerSigningKey = auth.SecurityKey(),
            ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
        };
        var token = Mint(42, TimeSpan.FromMinutes(10));
        var parsed = new JsonWebToken(token);

        var first = await handler.ValidateTokenAsync(token, parameters);
        Assert.True(first.IsValid, first.Exception?.Message);
        Assert.Equal(42, Assert.IsType<BuyerIdentity>(first.ClaimsIdentity).BuyerId);
        var lifetime = Assert.IsType<ValidatedToken>(first.SecurityToken);
        Assert.Equal((parsed.ValidFrom, parsed.ValidTo, parsed.Issuer, parsed.Id), (lifetime.ValidFrom, lifetime.ValidTo, lifetime.Issuer, lifetime.Id));

        // The second validation is kept; from then on the kept answer is the one given.
        var second = await handler.ValidateTokenAsync(token, parameters);
        Assert.True(second.IsValid);
        Assert.Same(second, await handler.ValidateTokenAsync(token, parameters));

        // A token whose signature is another is validated in full, and refused.
        var forged = token[..^2] + (token[^2] == 'A' ? "BB" : "AA");
        Assert.False((await handler.ValidateTokenAsync(forged, parameters)).IsValid);
    }

    /// <summary>Validates <paramref name="token"/> twice, as a buyer's first two requests do: the second is kept.</summary>
    private static void Keep(TokenValidationCache cache, string token)
    {
        cache.Add(token, Key, Validated(token));
        Assert.True(cache.Add(token, Key, Validated(token)), "a token validated twice was not kept");
    }

    private TokenValidationCache Cache(int capacity = 1000, int maxAgeSeconds = 300)
        => new(Options.Create(new TokenCacheOptions { Capacity = capacity, MaxAgeSeconds = maxAgeSeconds }), _time);

    private string Mint(long userId, TimeSpan lifetime)
        => new TokenIssuer(new AuthOptions { SigningKey = new string('k', 32) }, _time).Mint(userId, lifetime: lifetime);

    private static TokenValidationResult Validated(string token) => new() { IsValid = true, SecurityToken = new JsonWebToken(token) };
}
