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
        result.ClaimsIdentity = new BuyerIdentity(result.ClaimsIdentity);
        cache.Add(token, validationParameters.IssuerSigningKey, result);
        return result;
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
