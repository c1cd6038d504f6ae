using System.Net;
using FlashSale.Engine.Backpressure;
using FlashSale.Engine.Campaigns;
using FlashSale.Ingress.Admission;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace FlashSale.Tests.Unit;

/// <summary>The rate limits' configuration and a campaign's own limits, the known-proxy rule for X-Forwarded-For, and the backpressure's hysteresis.</summary>
public sealed class AdmissionConfigurationTests
{
    private static CampaignDefinition Campaign(CampaignRateLimits? limits) => new(
        "c-1", new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 3, 1, 14, 0, 0, TimeSpan.Zero), 900,
        [new CampaignSku(1001, 199m, 1000, 1)], limits);

    [Fact]
    public void CampaignRateLimitsWithinTheirRangesAreValid()
    {
        var errors = CampaignValidator.Validate(Campaign(new(new TokenBucketLimit(5, 10), TokenBucketLimit.Off, 100)));

        Assert.Empty(errors);
    }

    [Theory]
    [InlineData(-1, 10, null, "rateLimits.perBuyer")]
    [InlineData(5, 0, null, "rateLimits.perBuyer")]
    [InlineData(0, 3, null, "rateLimits.perBuyer")]
    [InlineData(1_000_001, 10, null, "rateLimits.perBuyer")]
    [InlineData(5, 10, 0, "rateLimits.concurrency")]
    [InlineData(5, 10, 100_001, "rateLimits.concurrency")]
    public void InvalidCampaignRateLimitsAreNamedByField(int permitsPerSecond, int burst, int? concurrency, string field)
    {
        var errors = CampaignValidator.Validate(Campaign(new(new TokenBucketLimit(permitsPerSecond, burst), null, concurrency)));

        Assert.Equal([field], errors.Keys);
    }

    [Fact]
    public void InvalidPerAddressLimitIsNamedByItsField()
    {
        var errors = CampaignValidator.Validate(Campaign(new(null, new TokenBucketLimit(10, 0))));

        Assert.Equal(["rateLimits.perAddress"], errors.Keys);
    }

    [Fact]
    public void RateLimitsArePartOfTheFingerprintAndAnEmptyObjectIsNone()
    {
        var none = CampaignValidator.Normalize(Campaign(null)).Fingerprint();
        var empty = CampaignValidator.Normalize(Campaign(new CampaignRateLimits())).Fingerprint();
        var limited = CampaignValidator.Normalize(Campaign(new(new TokenBucketLimit(5, 10)))).Fingerprint();
        var same = CampaignValidator.Normalize(Campaign(new(new TokenBucketLimit(5, 10)))).Fingerprint();
        var other = CampaignValidator.Normalize(Campaign(new(new TokenBucketLimit(5, 11)))).Fingerprint();

        Assert.Equal(none, empty);
        Assert.NotEqual(none, limited);
        Assert.Equal(limited, same);
        Assert.NotEqual(limited, other);
    }

    [Fact]
    public void CampaignRateLimitsSurviveTheCatalogsJson()
    {
        var limits = new CampaignRateLimits(new TokenBucketLimit(5, 10), TokenBucketLimit.Off, 42);

        Assert.Equal(limits, CampaignRateLimits.FromJson(limits.ToJson()));
        Assert.Equal(new CampaignRateLimits(PerAddress: new TokenBucketLimit(1, 2)), CampaignRateLimits.FromJson(new CampaignRateLimits(PerAddress: new TokenBucketLimit(1, 2)).ToJson()));
    }

    [Fact]
    public void DefaultRateLimitsAreTenPerSecondBurstTwentyPerBuyerAndNothingPerAddress()
    {
        var options = new RateLimitOptions();

        Assert.Empty(options.Problems());
        Assert.Equal(new TokenBucketLimit(10, 20), options.PerBuyer.ToLimit());
        Assert.True(options.PerAddress.ToLimit().IsOff);
        Assert.Equal(RateLimitOptions.DefaultConcurrency, options.Concurrency);
    }

    [Fact]
    public void ConfiguredRateLimitsOutOfRangeFailValidation()
    {
        var options = Bind(new() { ["RateLimits:PerBuyer:PermitsPerSecond"] = "10", ["RateLimits:PerBuyer:Burst"] = "0", ["RateLimits:PerAddress:PermitsPerSecond"] = "-3" });

        var result = new RateLimitOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Equal(2, result.Failures!.Count());
        Assert.Contains(result.Failures!, f => f.StartsWith("RateLimits:PerBuyer.burst", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.StartsWith("RateLimits:PerAddress.permitsPerSecond", StringComparison.Ordinal));
    }

    [Fact]
    public void ConfigurationOverridesOnlyWhatItNames()
    {
        var options = Bind(new() { ["RateLimits:PerBuyer:PermitsPerSecond"] = "4", ["RateLimits:PerAddress:PermitsPerSecond"] = "100", ["RateLimits:PerAddress:Burst"] = "200" });

        Assert.Equal(new TokenBucketLimit(4, 20), options.PerBuyer.ToLimit());
        Assert.Equal(new TokenBucketLimit(100, 200), options.PerAddress.ToLimit());
        Assert.Empty(options.Problems());
    }

    [Theory]
    [InlineData(10, 1, 100)]
    [InlineData(20, 2, 100)]
    [InlineData(5, 1, 200)]
    [InlineData(3, 3, 1_000)]
    [InlineData(1, 1, 1_000)]
    [InlineData(25, 5, 200)]
    public void BucketsRefillInWholeTokensAtTheRateAsked(int permitsPerSecond, int tokensPerPeriod, int periodMs)
    {
        var bucket = ReservationLimiter.Bucket(new TokenBucketLimit(permitsPerSecond, 20));

        Assert.Equal(tokensPerPeriod, bucket.TokensPerPeriod);
        Assert.Equal(TimeSpan.FromMilliseconds(periodMs), bucket.ReplenishmentPeriod);
        Assert.Equal(permitsPerSecond, bucket.TokensPerPeriod * 1_000 / (int)bucket.ReplenishmentPeriod.TotalMilliseconds);
        Assert.Equal(20, bucket.TokenLimit);
        Assert.Equal(0, bucket.QueueLimit);
    }

    [Theory]
    [InlineData("203.0.113.7", "203.0.113.7")]
    [InlineData("::ffff:203.0.113.7", "203.0.113.7")]
    [InlineData("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::")]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:2::")]
    public void AClientIsLimitedByItsIPv4AddressOrItsIPv6Slash64(string address, string key)
    {
        Assert.Equal(IPAddress.Parse(key), ReservationLimiter.ClientKey(IPAddress.Parse(address)));
    }

    [Theory]
    // No proxy configured (the default): the header is never believed, not even from loopback.
    [InlineData("", "", "127.0.0.1", "198.51.100.9", "127.0.0.1")]
    // From a known proxy: the client it names.
    [InlineData("10.0.0.5", "", "10.0.0.5", "198.51.100.9", "198.51.100.9")]
    // From an address that is not a known proxy: ignored.
    [InlineData("10.0.0.5", "", "10.0.0.6", "198.51.100.9", "10.0.0.6")]
    // A client that writes its own header in front: the rightmost hop the proxy added wins.
    [InlineData("10.0.0.5", "", "10.0.0.5", "1.2.3.4, 198.51.100.9", "198.51.100.9")]
    // A known network of proxies, two hops: the walk goes through both proxies and stops at the client.
    [InlineData("", "10.0.0.0/8", "10.0.0.5", "1.2.3.4, 198.51.100.9, 10.1.2.3", "198.51.100.9")]
    public async Task XForwardedForIsBelievedOnlyFromKnownProxies(string proxies, string networks, string peer, string forwardedFor, string client)
    {
        var settings = new Dictionary<string, string?>();
        foreach (var (proxy, i) in proxies.Split(',', StringSplitOptions.RemoveEmptyEntries).Select((p, i) => (p, i)))
        {
            settings[$"ForwardedHeaders:KnownProxies:{i}"] = proxy;
        }
        foreach (var (network, i) in networks.Split(',', StringSplitOptions.RemoveEmptyEntries).Select((n, i) => (n, i)))
        {
            settings[$"ForwardedHeaders:KnownNetworks:{i}"] = network;
        }
        var options = new ForwardedHeadersOptions();
        KnownProxies.Apply(options, new ConfigurationBuilder().AddInMemoryCollection(settings).Build().GetSection(KnownProxies.Section));
        IPAddress? seen = null;
        var middleware = new ForwardedHeadersMiddleware(context =>
        {
            seen = context.Connection.RemoteIpAddress;
            return Task.CompletedTask;
        }, NullLoggerFactory.Instance, Options.Create(options));
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Parse(peer);
        context.Request.Headers["X-Forwarded-For"] = forwardedFor;

        await middleware.Invoke(context);

        Assert.Equal(IPAddress.Parse(client), seen);
    }

    [Theory]
    [InlineData("ForwardedHeaders:KnownProxies:0", "not-an-address")]
    [InlineData("ForwardedHeaders:KnownNetworks:0", "10.0.0.0/99")]
    public void AProxySettingThatDoesNotParseStopsTheStart(string key, string value)
    {
        var section = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [key] = value }).Build().GetSection(KnownProxies.Section);

        var error = Assert.Throws<InvalidOperationException>(() => KnownProxies.Apply(new ForwardedHeadersOptions(), section));
        Assert.Contains(value, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ABackpressureTriggerFiresAboveItsThresholdAndClearsOnlyBelowTheResumeRatio()
    {
        var trigger = new BackpressureTrigger("consumer-lag", 1_000, 0.5);

        Assert.False(trigger.Update(1_000));
        Assert.False(trigger.Active);
        Assert.True(trigger.Update(1_001));
        Assert.True(trigger.Active);
        // Hysteresis: back under the threshold but above half of it, still on.
        Assert.False(trigger.Update(700));
        Assert.True(trigger.Active);
        Assert.True(trigger.Update(500));
        Assert.False(trigger.Active);
        Assert.Equal(500, trigger.Value);
    }

    [Fact]
    public void ABackpressureTriggerWithThresholdZeroNeverFires()
    {
        var trigger = new BackpressureTrigger("outbox-backlog", 0, 0.5);

        Assert.False(trigger.Update(double.MaxValue));
        Assert.False(trigger.Active);
    }

    private static RateLimitOptions Bind(Dictionary<string, string?> settings)
    {
        var options = new RateLimitOptions();
        new ConfigurationBuilder().AddInMemoryCollection(settings).Build().GetSection(RateLimitOptions.Section).Bind(options);
        return options;
    }
}
