using System.ComponentModel.DataAnnotations;
using FlashSale.Engine.Campaigns;
using Microsoft.Extensions.Options;

namespace FlashSale.Ingress.Admission;

/// <summary>
/// The reservation endpoint's rate limits on this Ingress (section <c>RateLimits</c>); a campaign's definition may
/// replace each for its own requests (<see cref="CampaignRateLimits"/>). Every Ingress limits on its own: with N of them
/// behind a balancer that spreads a buyer's requests, a buyer gets up to N times these.
/// </summary>
public sealed class RateLimitOptions
{
    public const string Section = "RateLimits";

    /// <summary>
    /// Requests in flight at once on one Ingress, all campaigns together. On the 2-core VM of the README's Performance
    /// section the created path peaks at about 12,500 answers a second from 64 requests in flight on; more only queue
    /// (256 in flight: the same throughput, p99 8 times longer). 1,000 in flight is about 80 ms of queue at that peak,
    /// the saturated p99 the engine already shows: a request beyond it would only wait longer, so it is told at once.
    /// Sold-out answers (sub-millisecond) hardly hold a slot. Scale it with the machine's cores.
    /// </summary>
    public const int DefaultConcurrency = 1_000;

    /// <summary>False turns every limit of this section off (the campaigns' own as well).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Per buyer (the token's <c>sub</c>): 10 requests a second with a burst of 20.</summary>
    public TokenBucketSettings PerBuyer { get; set; } = new() { PermitsPerSecond = 10, Burst = 20 };

    /// <summary>Per client address (after X-Forwarded-For from a known proxy; an IPv6 client by its /64). Off by default.</summary>
    public TokenBucketSettings PerAddress { get; set; } = new();

    /// <summary>Reservation requests in flight at once on this Ingress; 0 switches the limit off. See <see cref="DefaultConcurrency"/>.</summary>
    [Range(0, 1_000_000)]
    public int Concurrency { get; set; } = DefaultConcurrency;

    /// <summary>How often the campaigns' own limits are read again from the catalog (a campaign made through another Ingress).</summary>
    [Range(1, 3_600)]
    public int CampaignRefreshSeconds { get; set; } = 5;

    /// <summary>The configuration's errors, keyed by setting; empty when valid.</summary>
    public List<string> Problems()
    {
        var problems = new List<string>();
        if (PerBuyer.ToLimit().Problem($"{Section}:PerBuyer") is { } buyer)
        {
            problems.Add(buyer);
        }
        if (PerAddress.ToLimit().Problem($"{Section}:PerAddress") is { } address)
        {
            problems.Add(address);
        }
        return problems;
    }
}

/// <summary>A token bucket as configuration binds it; <see cref="PermitsPerSecond"/> 0 (the default) is off.</summary>
public sealed class TokenBucketSettings
{
    public int PermitsPerSecond { get; set; }

    public int Burst { get; set; }

    public TokenBucketLimit ToLimit() => new(PermitsPerSecond, Burst);
}

internal sealed class RateLimitOptionsValidator : IValidateOptions<RateLimitOptions>
{
    public ValidateOptionsResult Validate(string? name, RateLimitOptions options)
        => options.Problems() is { Count: > 0 } problems ? ValidateOptionsResult.Fail(problems) : ValidateOptionsResult.Success;
}
