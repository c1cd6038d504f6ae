using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;
using FlashSale.Engine.Campaigns;
using FlashSale.Ingress.Infrastructure;

namespace FlashSale.Ingress.Admission;

/// <summary>Marks the endpoint the reservation limits apply to (the reservation endpoint).</summary>
public sealed class ReservationRateLimited
{
    public static readonly ReservationRateLimited Instance = new();

    private ReservationRateLimited()
    {
    }
}

/// <summary>
/// The reservation endpoint's limits, as ASP.NET Core's rate limiting middleware asks them (its global limiter): per
/// buyer, per client address, the campaign's own cap on requests in flight, and the Ingress-wide cap, in that order, each
/// a partitioned limiter of System.Threading.RateLimiting (token buckets, concurrency limiters; no queueing: a request is
/// admitted or refused at once). What it adds to <see cref="PartitionedRateLimiter.CreateChained{TResource}"/> is the
/// name of the limit that refused (<see cref="LimitName"/> on the lease), for the answer and the metrics.
/// Other endpoints pass untouched. A campaign with its own limits (<see cref="CampaignLimitOverrides"/>) has partitions
/// of its own for them; every other campaign shares the deployment's per-buyer and per-address buckets.
/// </summary>
public sealed class ReservationLimiter : PartitionedRateLimiter<HttpContext>
{
    public const string Buyer = "buyer";
    public const string Address = "address";
    public const string CampaignConcurrency = "campaign-concurrency";
    public const string Concurrency = "concurrency";

    /// <summary>The lease metadata naming the limit that refused: <see cref="Buyer"/>, <see cref="Address"/>, ...</summary>
    public static readonly MetadataName<string> LimitName = new("flashsale.limit");

    private static readonly RateLimitLease Admitted = new AdmittedLease();

    private readonly (string Name, PartitionedRateLimiter<HttpContext> Limiter)[] _chain;

    public ReservationLimiter(RateLimitOptions options, CampaignLimitOverrides overrides)
    {
        var perBuyer = options.PerBuyer.ToLimit();
        var perAddress = options.PerAddress.ToLimit();
        var concurrency = options.Concurrency;
        _chain =
        [
            (Buyer, PartitionedRateLimiter.Create<HttpContext, (string Scope, long Buyer)>(context =>
            {
                var campaignId = CampaignOf(context);
                var own = overrides.Find(campaignId)?.PerBuyer;
                var limit = own ?? perBuyer;
                return limit.IsOff || context.User.BuyerId() is not { } buyer
                    ? RateLimitPartition.GetNoLimiter(("", 0L))
                    : RateLimitPartition.GetTokenBucketLimiter((own is null ? "" : campaignId!, buyer), _ => Bucket(limit));
            })),
            (Address, PartitionedRateLimiter.Create<HttpContext, (string Scope, IPAddress? Address)>(context =>
            {
                var campaignId = CampaignOf(context);
                var own = overrides.Find(campaignId)?.PerAddress;
                var limit = own ?? perAddress;
                return limit.IsOff
                    ? RateLimitPartition.GetNoLimiter<(string, IPAddress?)>(("", null))
                    : RateLimitPartition.GetTokenBucketLimiter((own is null ? "" : campaignId!, ClientKey(context.Connection.RemoteIpAddress)), _ => Bucket(limit));
            })),
            (CampaignConcurrency, PartitionedRateLimiter.Create<HttpContext, string>(context =>
            {
                var campaignId = CampaignOf(context);
                return overrides.Find(campaignId)?.Concurrency is { } cap
                    ? RateLimitPartition.GetConcurrencyLimiter(campaignId!, _ => new ConcurrencyLimiterOptions { PermitLimit = cap, QueueLimit = 0 })
                    : RateLimitPartition.GetNoLimiter("");
            })),
            (Concurrency, PartitionedRateLimiter.Create<HttpContext, int>(_ => concurrency > 0
                ? RateLimitPartition.GetConcurrencyLimiter(1, _ => new ConcurrencyLimiterOptions { PermitLimit = concurrency, QueueLimit = 0 })
                : RateLimitPartition.GetNoLimiter(0))),
        ];
    }

    /// <summary>
    /// A token bucket refilled every tenth of a second where the rate allows whole tokens (10/s: one token every 100 ms),
    /// else in the shortest period that does (5/s: one every 200 ms; 3/s: three every second). The partitioned limiter's
    /// own timer refills every bucket (100 ms ticks), so no bucket runs a timer of its own.
    /// </summary>
    public static TokenBucketRateLimiterOptions Bucket(TokenBucketLimit limit)
    {
        var tenths = 10 / (int)System.Numerics.BigInteger.GreatestCommonDivisor(limit.PermitsPerSecond, 10);
        return new TokenBucketRateLimiterOptions
        {
            TokenLimit = limit.Burst,
            TokensPerPeriod = limit.PermitsPerSecond * tenths / 10,
            ReplenishmentPeriod = TimeSpan.FromMilliseconds(100 * tenths),
            QueueLimit = 0,
            AutoReplenishment = false,
        };
    }

    /// <summary>The address a client is limited by: IPv4 as it is (also when mapped into IPv6), IPv6 by its /64, since one host holds a /64.</summary>
    public static IPAddress? ClientKey(IPAddress? address)
    {
        if (address is null || address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address;
        }
        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4();
        }
        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes);
    }

    private static string? CampaignOf(HttpContext context) => context.Request.RouteValues["campaignId"] as string;

    public override RateLimiterStatistics? GetStatistics(HttpContext resource) => _chain[^1].Limiter.GetStatistics(resource);

    protected override RateLimitLease AttemptAcquireCore(HttpContext resource, int permitCount)
    {
        if (resource.GetEndpoint()?.Metadata.GetMetadata<ReservationRateLimited>() is null)
        {
            return Admitted;
        }
        var held = new RateLimitLease[_chain.Length];
        for (var i = 0; i < _chain.Length; i++)
        {
            var lease = _chain[i].Limiter.AttemptAcquire(resource, permitCount);
            if (!lease.IsAcquired)
            {
                // Concurrency permits taken by the limits before this one go back at once; tokens do not.
                for (var j = 0; j < i; j++)
                {
                    held[j].Dispose();
                }
                return new RefusedLease(_chain[i].Name, lease);
            }
            held[i] = lease;
        }
        return new HeldLeases(held);
    }

    // Nothing ever queues (queue limits are 0): waiting is the same as trying now.
    protected override ValueTask<RateLimitLease> AcquireAsyncCore(HttpContext resource, int permitCount, CancellationToken cancellationToken)
        => ValueTask.FromResult(AttemptAcquireCore(resource, permitCount));

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var (_, limiter) in _chain)
            {
                limiter.Dispose();
            }
        }
        base.Dispose(disposing);
    }

    private sealed class AdmittedLease : RateLimitLease
    {
        public override bool IsAcquired => true;

        public override IEnumerable<string> MetadataNames => [];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = null;
            return false;
        }
    }

    private sealed class HeldLeases(RateLimitLease[] leases) : RateLimitLease
    {
        public override bool IsAcquired => true;

        public override IEnumerable<string> MetadataNames => [];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = null;
            return false;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                foreach (var lease in leases)
                {
                    lease.Dispose();
                }
            }
            base.Dispose(disposing);
        }
    }

    private sealed class RefusedLease(string limit, RateLimitLease refused) : RateLimitLease
    {
        public override bool IsAcquired => false;

        public override IEnumerable<string> MetadataNames => [LimitName.Name, .. refused.MetadataNames];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            if (metadataName == LimitName.Name)
            {
                metadata = limit;
                return true;
            }
            return refused.TryGetMetadata(metadataName, out metadata);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                refused.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
