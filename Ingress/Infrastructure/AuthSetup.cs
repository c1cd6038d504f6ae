using System.Security.Claims;
using FlashSale.Engine.Auth;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace FlashSale.Ingress.Infrastructure;

public static class AuthSetup
{
    public const string BuyerPolicy = "buyer";
    public const string AdminPolicy = "admin";

    public static IHostApplicationBuilder AddIngressAuth(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<TokenCacheOptions>().BindConfiguration(TokenCacheOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<TokenValidationCache>();
        builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        builder.Services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<IOptions<AuthOptions>, TokenValidationCache, TimeProvider>((bearer, auth, cache, time) =>
            {
                // Keep "sub" and "role" as they are in the token instead of WS-Federation claim URIs.
                bearer.MapInboundClaims = false;
                // Nothing reads the raw token back from the authentication properties: not storing it saves work on every request.
                bearer.SaveToken = false;
                bearer.TokenHandlers.Clear();
                bearer.TokenHandlers.Add(new CachingTokenHandler(new JsonWebTokenHandler { MapInboundClaims = false }, cache));
                bearer.Events = new JwtBearerEvents { OnMessageReceived = context => AnswerFromCache(context, cache) };
                bearer.TokenValidationParameters = new TokenValidationParameters
                {
                    ValidIssuer = auth.Value.Issuer,
                    ValidAudience = auth.Value.Audience,
                    IssuerSigningKey = auth.Value.SecurityKey(),
                    ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
                    NameClaimType = JwtRegisteredClaimNames.Sub,
                    RoleClaimType = AuthOptions.RoleClaim,
                    ClockSkew = TimeSpan.FromSeconds(30),
                    // On the engine's clock, which the token cache also reads: a token expires for both at once.
                    LifetimeValidator = (notBefore, expires, _, parameters) =>
                        IsWithinLifetime(notBefore, expires, parameters.ClockSkew, time.GetUtcNow().UtcDateTime),
                };
            });

        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(BuyerPolicy, p => p.RequireAuthenticatedUser().RequireAssertion(c => c.User.BuyerId() is not null))
            .AddPolicy(AdminPolicy, p => p.RequireAuthenticatedUser().RequireRole(AuthOptions.AdminRole));
        return builder;
    }

    /// <summary>
    /// A token the cache holds (validated, within its lifetime, for the signing key in force) authenticates the request
    /// right as the bearer handler receives it, without the handler's validation path (its token handlers, the
    /// token-validated event and its properties): on a sale's hot path that path cost more than the cache lookup it ends
    /// in. Any other token goes on to the handler, which validates it in full through <see cref="CachingTokenHandler"/>.
    /// </summary>
    private static Task AnswerFromCache(MessageReceivedContext context, TokenValidationCache cache)
    {
        var authorization = context.Request.Headers.Authorization.ToString();
        if (authorization.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase)
            && cache.TryGet(authorization[BearerPrefix.Length..].Trim(), context.Options.TokenValidationParameters.IssuerSigningKey, out var cached))
        {
            context.Principal = new ClaimsPrincipal(cached.ClaimsIdentity);
            context.Success();
        }
        return Task.CompletedTask;
    }

    private const string BearerPrefix = "Bearer ";

    /// <summary>The default lifetime rule (an expiry is required; both ends are widened by the clock skew), on a given clock.</summary>
    public static bool IsWithinLifetime(DateTime? notBefore, DateTime? expires, TimeSpan clockSkew, DateTime utcNow)
        => expires is { } exp
            && (notBefore is not { } nbf || nbf.ToUniversalTime() <= utcNow + clockSkew)
            && exp.ToUniversalTime() >= utcNow - clockSkew;

    /// <summary>
    /// The buyer is the token's subject, a positive numeric user id; never a body field. Parsed once per
    /// token by <see cref="BuyerIdentity"/>; an identity from elsewhere (a test's) is parsed here.
    /// </summary>
    public static long? BuyerId(this ClaimsPrincipal user)
        => user.Identity is BuyerIdentity buyer
            ? buyer.BuyerId
            : BuyerIdentity.ParseBuyerId(user.FindFirstValue(JwtRegisteredClaimNames.Sub));
}
