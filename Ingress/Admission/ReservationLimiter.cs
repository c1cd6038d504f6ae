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
/// a limiter of System.Threading.RateLimiting (token buckets, concurrency limiters; no queueing: a request is admitted or
/// refused at once). What it adds to <see cref="PartitionedRateLimiter.CreateChained{TResource}"/> is the name of the
/// limit that refused (<see cref="LimitName"/> on the lease), for the answer and the metrics, and that a limit which is
/// off for the request's campaign is not asked at all: the campaign and its own limits are looked up once per request,
/// and the Ingress-wide cap is one concurrency limiter, not a partition, so a sale whose per-buyer and per-address limits
/// are off pays for one permit. Other endpoints pass untouched. A campaign with its own limits
/// (<see cref="CampaignLimitOverrides"/>) has partitions of its own for them; every other campaign shares the
/// deployment's per-buyer and per-address buckets.
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

    private readonly CampaignLimitOverrides _overrides;
    private readonly PartitionedRateLimiter<LimitedRequest> _perBuyer;
    private readonly PartitionedRateLimiter<LimitedRequest> _perAddress;
    private readonly PartitionedRateLimiter<LimitedRequest> _campaignConcurrency;
    private readonly ConcurrencyLimiter? _concurrency;

    /// <summary>Each limit in order: its name, and a permit from it, or null where it does not apply to the request.</summary>
    private readonly (string Name, Func<LimitedRequest, int, RateLimitLease?> Acquire)[] _chain;

    public ReservationLimiter(RateLimitOptions options, CampaignLimitOverrides overrides)
    {
        _overrides = overrides;
        var perBuyer = options.PerBuyer.ToLimit();
        var perAddress = options.PerAddress.ToLimit();
        _perBuyer = PartitionedRateLimiter.Create<LimitedRequest, (string Scope, long Buyer)>(request =>
            request.Context.User.BuyerId() is not { } buyer
                ? RateLimitPartition.GetNoLimiter(("", 0L))
                : RateLimitPartition.GetTokenBucketLimiter((request.Own?.PerBuyer is null ? "" : request.CampaignId!, buyer),
                    _ => Bucket(request.Own?.PerBuyer ?? perBuyer)));
        _perAddress = PartitionedRateLimiter.Create<LimitedRequest, (string Scope, IPAddress? Address)>(request =>
            RateLimitPartition.GetTokenBucketLimiter(
                (request.Own?.PerAddress is null ? "" : request.CampaignId!, ClientKey(request.Context.Connection.RemoteIpAddress)),
                _ => Bucket(request.Own?.PerAddress ?? perAddress)));
        _campaignConcurrency = PartitionedRateLimiter.Create<LimitedRequest, string>(request =>
            RateLimitPartition.GetConcurrencyLimiter(request.CampaignId!,
                _ => new ConcurrencyLimiterOptions { PermitLimit = request.Own!.Concurrency!.Value, QueueLimit = 0 }));
        _concurrency = options.Concurrency > 0
            ? new ConcurrencyLimiter(new ConcurrencyLimiterOptions { PermitLimit = options.Concurrency, QueueLimit = 0 })
            : null;
        _chain =
        [
            (Buyer, (request, permits) => (request.Own?.PerBuyer ?? perBuyer).IsOff ? null : _perBuyer.AttemptAcquire(request, permits)),
            (Address, (request, permits) => (request.Own?.PerAddress ?? perAddress).IsOff ? null : _perAddress.AttemptAcquire(request, permits)),
            (CampaignConcurrency, (request, permits) => request.Own?.Concurrency is null ? null : _campaignConcurrency.AttemptAcquire(request, permits)),
            (Concurrency, (_, permits) => _concurrency?.AttemptAcquire(permits)),
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

    public override RateLimiterStatistics? GetStatistics(HttpContext resource) => _concurrency?.GetStatistics();

    protected override RateLimitLease AttemptAcquireCore(HttpContext resource, int permitCount)
    {
        if (resource.GetEndpoint()?.Metadata.GetMetadata<ReservationRateLimited>() is null)
        {
            return Admitted;
        }
        var campaignId = CampaignOf(resource);
        var request = new LimitedRequest(resource, campaignId, _overrides.Find(campaignId));
        var held = new RateLimitLease[_chain.Length];
        var count = 0;
        foreach (var (name, acquire) in _chain)
        {
            if (acquire(request, permitCount) is not { } lease)
            {
                continue;
            }
            if (!lease.IsAcquired)
            {
                // Concurrency permits taken by the limits before this one go back at once; tokens do not.
                for (var j = 0; j < count; j++)
                {
                    held[j].Dispose();
                }
                return new RefusedLease(name, lease);
            }
            held[count++] = lease;
        }
        return count switch
        {
            0 => Admitted,
            1 => held[0],
            _ => new HeldLeases(held[..count]),
        };
    }

    // Nothing ever queues (queue limits are 0): waiting is the same as trying now.
    protected override ValueTask<RateLimitLease> AcquireAsyncCore(HttpContext resource, int permitCount, CancellationToken cancellationToken)
        => ValueTask.FromResult(AttemptAcquireCore(resource, permitCount));

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _perBuyer.Dispose();
            _perAddress.Dispose();
            _campaignConcurrency.Dispose();
            _concurrency?.Dispose();
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

/// <summary>A reservation request as the limits see it: its campaign and the campaign's own limits, looked up once.</summary>
internal readonly record struct LimitedRequest(HttpContext Context, string? CampaignId, CampaignRateLimits? Own);
