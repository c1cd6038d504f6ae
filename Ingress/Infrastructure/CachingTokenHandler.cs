using System.Globalization;
using System.Security.Claims;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace FlashSale.Ingress.Infrastructure;

/// <summary>
/// The bearer handler's token validator (<c>JwtBearerOptions.TokenHandlers</c>): the JSON Web Token handler
/// behind a <see cref="TokenValidationCache"/>. Every validated identity is a <see cref="BuyerIdentity"/>, so the
/// buyer id is parsed once per token rather than by the policy and again by the endpoint on every request.
/// </summary>
/// <remarks>
/// A token that validates is answered with what the bearer handler reads of it, and nothing else: the identity and
/// the token's lifetime, id and issuer (<see cref="ValidatedToken"/>). The inner handler's result also holds the parsed
/// token (its header and payload as JSON claim sets, about 2.8 KB) and a copy of the validation parameters; kept in
/// the cache, those made a token cost about 5 KB, and about 1.2 KB without them.
/// </remarks>
public sealed class CachingTokenHandler(TokenHandler inner, TokenValidationCache cache) : TokenHandler
{
    public override async Task<TokenValidationResult> ValidateTokenAsync(string token, TokenValidationParameters validationParameters)
    {
        if (cache.TryGet(token, validationParameters.IssuerSigningKey, out var cached))
        {
            return cached;
        }
        var result = await inner.ValidateTokenAsync(token, validationParameters);
        if (!result.IsValid)
        {
            return result;
        }
        var validated = new TokenValidationResult
        {
            IsValid = true,
            ClaimsIdentity = new BuyerIdentity(result.ClaimsIdentity),
            SecurityToken = new ValidatedToken(result.SecurityToken),
        };
        cache.Add(token, validationParameters.IssuerSigningKey, validated);
        return validated;
    }

    public override Task<TokenValidationResult> ValidateTokenAsync(SecurityToken token, TokenValidationParameters validationParameters)
        => inner.ValidateTokenAsync(token, validationParameters);

    public override SecurityToken ReadToken(string token) => inner.ReadToken(token);
}

/// <summary>
/// A token's identity with its buyer id parsed once: the token's <c>sub</c> when it is a positive 64-bit
/// integer, else null (an admin or a service token is no buyer).
/// </summary>
public sealed class BuyerIdentity : CaseSensitiveClaimsIdentity
{
    public BuyerIdentity(ClaimsIdentity validated) : base(validated)
    {
        BuyerId = ParseBuyerId(FindFirst(JwtRegisteredClaimNames.Sub)?.Value);
    }

    public long? BuyerId { get; }

    public static long? ParseBuyerId(string? subject)
        => long.TryParse(subject, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0 ? id : null;
}

/// <summary>
/// What the bearer handler reads of a validated token — its lifetime (the authentication's issued and expiry times), id
/// and issuer — copied out of the parsed token, so that a cached identity does not keep the token's parsed JSON alive.
/// </summary>
public sealed class ValidatedToken(SecurityToken token) : SecurityToken
{
    public override string Id { get; } = token.Id;

    public override string Issuer { get; } = token.Issuer;

    /// <summary>None: a token signed with a shared key carries no key of its own.</summary>
    public override SecurityKey? SecurityKey => null;

    public override SecurityKey? SigningKey { get; set; } = token.SigningKey;

    public override DateTime ValidFrom { get; } = token.ValidFrom;

    public override DateTime ValidTo { get; } = token.ValidTo;
}
