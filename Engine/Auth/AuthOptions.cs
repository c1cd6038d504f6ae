using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace FlashSale.Engine.Auth;

/// <summary>HS256 bearer tokens. The key's UTF-8 bytes sign and verify; it comes from configuration.</summary>
public sealed class AuthOptions
{
    public const string Section = "Auth";
    public const string AdminRole = "admin";
    public const string RoleClaim = "role";

    /// <summary>At least 32 bytes (256 bits), as HS256 requires.</summary>
    [Required]
    [MinLength(32)]
    public string SigningKey { get; set; } = "";

    [Required]
    public string Issuer { get; set; } = "flashsale";

    [Required]
    public string Audience { get; set; } = "flashsale";

    public SymmetricSecurityKey SecurityKey() => new(Encoding.UTF8.GetBytes(SigningKey));
}

/// <summary>Mints tokens for development, load tests and the Warmup CLI. Production tokens come from the shop's identity provider.</summary>
public sealed class TokenIssuer(AuthOptions options, TimeProvider time)
{
    public string Mint(long userId, bool admin = false, TimeSpan? lifetime = null)
    {
        var claims = new List<Claim> { new(JwtRegisteredClaimNames.Sub, userId.ToString(System.Globalization.CultureInfo.InvariantCulture)) };
        if (admin)
        {
            claims.Add(new Claim(AuthOptions.RoleClaim, AuthOptions.AdminRole));
        }
        var now = time.GetUtcNow().UtcDateTime;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Subject = new ClaimsIdentity(claims),
            Issuer = options.Issuer,
            Audience = options.Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + (lifetime ?? TimeSpan.FromHours(12)),
            SigningCredentials = new SigningCredentials(options.SecurityKey(), SecurityAlgorithms.HmacSha256),
        });
    }
}
