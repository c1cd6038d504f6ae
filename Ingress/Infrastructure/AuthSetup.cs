using System.Globalization;
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
        builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        builder.Services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<IOptions<AuthOptions>>((bearer, auth) =>
            {
                // Keep "sub" and "role" as they are in the token instead of WS-Federation claim URIs.
                bearer.MapInboundClaims = false;
                bearer.TokenValidationParameters = new TokenValidationParameters
                {
                    ValidIssuer = auth.Value.Issuer,
                    ValidAudience = auth.Value.Audience,
                    IssuerSigningKey = auth.Value.SecurityKey(),
                    ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
                    NameClaimType = JwtRegisteredClaimNames.Sub,
                    RoleClaimType = AuthOptions.RoleClaim,
                    ClockSkew = TimeSpan.FromSeconds(30),
                };
            });

        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(BuyerPolicy, p => p.RequireAuthenticatedUser().RequireAssertion(c => c.User.BuyerId() is not null))
            .AddPolicy(AdminPolicy, p => p.RequireAuthenticatedUser().RequireRole(AuthOptions.AdminRole));
        return builder;
    }

    /// <summary>The buyer is the token's subject, a positive numeric user id; never a body field.</summary>
    public static long? BuyerId(this ClaimsPrincipal user)
        => long.TryParse(user.FindFirstValue(JwtRegisteredClaimNames.Sub), NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0
            ? id
            : null;
}
