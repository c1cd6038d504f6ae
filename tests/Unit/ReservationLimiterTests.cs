using System.Net;
using System.Security.Claims;
using System.Threading.RateLimiting;
using FlashSale.Engine.Campaigns;
using FlashSale.Ingress.Admission;
using Microsoft.AspNetCore.Http;

namespace FlashSale.Tests.Unit;

/// <summary>
/// The reservation endpoint's chain of limits, asked directly as the rate limiting middleware asks it: which limit
/// refuses, that a limit off for the campaign takes no permit, and that a refusal gives back the permits taken before it.
/// </summary>
public sealed class ReservationLimiterTests
{
    private static readonly TokenBucketSettings Off = new();

    [Fact]
    public void WithEveryPerRequestLimitOffOnlyTheIngressWideCapHoldsAPermitAndItsReleaseAdmitsTheNext()
    {
        using var limiter = Limiter(perBuyer: Off, perAddress: Off, concurrency: 2);

        using var first = limiter.AttemptAcquire(Request("c-1", buyer: 1));
        using var second = limiter.AttemptAcquire(Request("c-1", buyer: 2));
        using var third = limiter.AttemptAcquire(Request("c-2", buyer: 3));

        Assert.True(first.IsAcquired);
        Assert.True(second.IsAcquired);
        Assert.False(third.IsAcquired);
        Assert.Equal(ReservationLimiter.Concurrency, Refusal(third));
        first.Dispose();
        using var fourth = limiter.AttemptAcquire(Request("c-2", buyer: 3));
        Assert.True(fourth.IsAcquired);
    }

    [Fact]
    public void TheBuyerAndTheAddressAreLimitedInThatOrderAndAnotherBuyerAtAnotherAddressPasses()
    {
        using var limiter = Limiter(perBuyer: Bucket(1, 1), perAddress: Bucket(1, 2), concurrency: 0);

        Assert.True(limiter.AttemptAcquire(Request("c-1", buyer: 1, address: "198.51.100.1")).IsAcquired);
        Assert.Equal(ReservationLimiter.Buyer, Refusal(limiter.AttemptAcquire(Request("c-1", buyer: 1, address: "198.51.100.1"))));
        Assert.True(limiter.AttemptAcquire(Request("c-1", buyer: 2, address: "198.51.100.1")).IsAcquired);
        Assert.Equal(ReservationLimiter.Address, Refusal(limiter.AttemptAcquire(Request("c-1", buyer: 3, address: "198.51.100.1"))));
        Assert.True(limiter.AttemptAcquire(Request("c-1", buyer: 4, address: "198.51.100.2")).IsAcquired);
    }

    [Fact]
    public void ACampaignsOwnLimitsReplaceTheDeploymentsForItsRequestsOnly()
    {
        var overrides = new CampaignLimitOverrides();
        overrides.Set("own", new CampaignRateLimits(PerBuyer: new TokenBucketLimit(100, 100)));
        using var limiter = Limiter(perBuyer: Bucket(1, 1), perAddress: Off, concurrency: 0, overrides);

        for (var i = 0; i < 5; i++)
        {
            Assert.True(limiter.AttemptAcquire(Request("own", buyer: 1)).IsAcquired);
        }
        Assert.True(limiter.AttemptAcquire(Request("other", buyer: 1)).IsAcquired);
        Assert.Equal(ReservationLimiter.Buyer, Refusal(limiter.AttemptAcquire(Request("other", buyer: 1))));
    }

    [Fact]
    public void ARefusalByTheIngressWideCapGivesBackTheCampaignsPermitTakenBeforeIt()
    {
        var overrides = new CampaignLimitOverrides();
        overrides.Set("capped", new CampaignRateLimits(Concurrency: 2));
        using var limiter = Limiter(perBuyer: Off, perAddress: Off, concurrency: 1, overrides);

        var first = limiter.AttemptAcquire(Request("capped", buyer: 1));
        Assert.True(first.IsAcquired);
        // Takes the campaign's second permit, then the Ingress-wide cap refuses: the campaign's permit must come back.
        Assert.Equal(ReservationLimiter.Concurrency, Refusal(limiter.AttemptAcquire(Request("capped", buyer: 2))));
        first.Dispose();

        using var second = limiter.AttemptAcquire(Request("capped", buyer: 3));
        Assert.True(second.IsAcquired);
        // Had the refused request kept its campaign permit, the campaign's cap of 2 would be the one refusing now.
        Assert.Equal(ReservationLimiter.Concurrency, Refusal(limiter.AttemptAcquire(Request("capped", buyer: 4))));
    }

    [Fact]
    public void OtherEndpointsPassUntouched()
    {
        using var limiter = Limiter(perBuyer: Bucket(1, 1), perAddress: Off, concurrency: 1);
        var elsewhere = Request("c-1", buyer: 1);
        elsewhere.SetEndpoint(new Endpoint(null, EndpointMetadataCollection.Empty, "orders"));

        for (var i = 0; i < 3; i++)
        {
            Assert.True(limiter.AttemptAcquire(elsewhere).IsAcquired);
        }
    }

    private static ReservationLimiter Limiter(TokenBucketSettings perBuyer, TokenBucketSettings perAddress, int concurrency, CampaignLimitOverrides? overrides = null)
        => new(new RateLimitOptions { PerBuyer = perBuyer, PerAddress = perAddress, Concurrency = concurrency }, overrides ?? new CampaignLimitOverrides());

    private static TokenBucketSettings Bucket(int permitsPerSecond, int burst) => new() { PermitsPerSecond = permitsPerSecond, Burst = burst };

    private static DefaultHttpContext Request(string campaignId, long buyer, string address = "198.51.100.1")
    {
        var context = new DefaultHttpContext
        {
            User = new ClaimsPrincipal(new ClaimsIdentity([new Claim("sub", buyer.ToString(System.Globalization.CultureInfo.InvariantCulture))], "test")),
        };
        context.Connection.RemoteIpAddress = IPAddress.Parse(address);
        context.Request.RouteValues["campaignId"] = campaignId;
        context.SetEndpoint(new Endpoint(null, new EndpointMetadataCollection(ReservationRateLimited.Instance), "reserve"));
        return context;
    }

    private static string? Refusal(RateLimitLease lease)
    {
        Assert.False(lease.IsAcquired);
        return lease.TryGetMetadata(ReservationLimiter.LimitName, out var name) ? name : null;
    }
}
