using System.Collections.Concurrent;
using FlashSale.Engine.Auth;

namespace FlashSale.LoadTests.EngineApi;

/// <summary>
/// Bearer tokens minted the way the Ingress verifies them, cached per buyer: signing a JWT costs
/// far more than the request it rides on, so it must never be inside a measured latency.
/// </summary>
public sealed class BuyerTokens
{
    // DEV-ONLY default: the same key as Ingress/appsettings.Development.json, so a run against a
    // local Development Ingress needs no setup. Any other Ingress has its own Auth:SigningKey,
    // which the run must be given in FLASHSALE_SIGNING_KEY.
    public const string DevelopmentSigningKey = "DEV-ONLY-flashsale-signing-key-do-not-use-in-production-0123456789";
    public const string SigningKeyVariable = "FLASHSALE_SIGNING_KEY";

    private readonly TokenIssuer _issuer;
    private readonly ConcurrentDictionary<long, string> _authorization = new();

    public BuyerTokens(string signingKey)
    {
        _issuer = new TokenIssuer(
            new AuthOptions { SigningKey = signingKey, Issuer = "flashsale", Audience = "flashsale" },
            TimeProvider.System);
        // Admin id 0 is never a buyer id: buyer ids start at 1.
        Admin = "Bearer " + _issuer.Mint(0, admin: true);
    }

    public static BuyerTokens FromEnvironment(out bool usingDevelopmentKey)
    {
        var key = Environment.GetEnvironmentVariable(SigningKeyVariable);
        usingDevelopmentKey = string.IsNullOrEmpty(key);
        return new BuyerTokens(usingDevelopmentKey ? DevelopmentSigningKey : key!);
    }

    /// <summary>The Authorization header value of the admin token.</summary>
    public string Admin { get; }

    /// <summary>The Authorization header value for a buyer; minted on first use.</summary>
    public string For(long buyerId) => _authorization.GetOrAdd(buyerId, static (id, issuer) => "Bearer " + issuer.Mint(id), _issuer);

    /// <summary>Mints every buyer's token up front, on all cores.</summary>
    public void Prepare(IEnumerable<long> buyers, CancellationToken cancellationToken)
        => Parallel.ForEach(buyers, new ParallelOptions { CancellationToken = cancellationToken }, buyer => For(buyer));
}
