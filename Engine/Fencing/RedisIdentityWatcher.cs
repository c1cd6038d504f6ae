using FlashSale.Engine.Redis;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MySqlConnector;
using StackExchange.Redis;

namespace FlashSale.Engine.Fencing;

/// <summary>
/// Watches the identity of the Redis this process talks to (<see cref="RedisIdentity"/>): once before the process
/// serves, every <see cref="FencingOptions.IdentityCheckIntervalMs"/> and whenever a lost connection comes back.
/// A server that is not the one recorded as trusted (<see cref="TrustedRedisStore"/>) may have come back from an
/// older snapshot or be a replica that was behind: every live SKU is fenced (fence.lua) until the reconciler has
/// rebuilt it from the durable log, and the marker <see cref="RedisKeyspace.FencedIdentity"/> notes in that Redis
/// that its SKUs were fenced, so that SKUs warmed up later are not.
/// <para>
/// On a Redis Cluster the identity is every primary's (<see cref="RedisTopology"/>), and only the live SKUs whose
/// hash slot a primary with an identity the trusted one does not contain serves are fenced: a restarted or
/// promoted primary fences its own SKUs, the other primaries' SKUs keep selling. The gate is still one for the
/// process: a lost connection to any node closes it until the whole cluster has been checked again.
/// </para>
/// </summary>
public sealed partial class RedisIdentityWatcher(
    IConnectionMultiplexer redis,
    IDatabase db,
    SkuScripts scripts,
    CouponScripts couponScripts,
    TrustedRedisStore trusted,
    RedisIdentityGate gate,
    IOptions<FencingOptions> options,
    TimeProvider time,
    ILogger<RedisIdentityWatcher> logger) : BackgroundService
{
    private readonly SemaphoreSlim _checking = new(1, 1);

    // The identity this process last found trusted, and the last one it found at all. Memory only: the trusted
    // identity itself is in MySQL, so a process started later compares with the same record.
    private RedisIdentity? _trusted;
    private RedisIdentity? _seen;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        redis.ConnectionFailed += OnConnectionFailed;
        redis.ConnectionRestored += OnConnectionRestored;
        // Before the host serves: a decision must never reach a Redis nobody has looked at. A Redis that is down
        // does not keep the host from starting; the gate stays closed until a check succeeds.
        var deadline = time.GetUtcNow() + TimeSpan.FromMilliseconds(options.Value.StartupWaitMs);
        while (!await TryCheckAsync(cancellationToken) && time.GetUtcNow() < deadline)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(200), time, cancellationToken);
        }
        await base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        redis.ConnectionFailed -= OnConnectionFailed;
        redis.ConnectionRestored -= OnConnectionRestored;
        await base.StopAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(options.Value.IdentityCheckIntervalMs), time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            await TryCheckAsync(stoppingToken);
        }
    }

    /// <summary>Checks the identity now; false when Redis (or MySQL, for a new identity) could not be asked.</summary>
    public async Task<bool> TryCheckAsync(CancellationToken cancellationToken)
    {
        await _checking.WaitAsync(cancellationToken);
        try
        {
            await CheckAsync(cancellationToken);
            return true;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or FormatException)
        {
            LogCheckFailed(logger, ex);
            return false;
        }
        finally
        {
            _checking.Release();
        }
    }

    private async Task CheckAsync(CancellationToken cancellationToken)
    {
        var topology = await RedisTopology.ReadAsync(redis);
        var identity = topology.Identity;
        if (identity == _trusted)
        {
            gate.Open(topology);
            return;
        }

        RedisIdentity? recorded;
        try
        {
            recorded = await trusted.GetAsync(cancellationToken) ?? await trusted.TrustFirstAsync(identity, cancellationToken);
        }
        catch (MySqlException ex)
        {
            // Without the record an unfamiliar Redis cannot be shown to be the trusted one: it is treated as not.
            LogTrustUnknown(logger, ex, identity.ToString());
            recorded = null;
        }
        if (identity == recorded)
        {
            _trusted = identity;
            _seen = identity;
            gate.Open(topology);
            return;
        }

        var isNew = identity != _seen;
        var untrusted = topology.NotIn(recorded);
        if (isNew)
        {
            // Nothing reaches an untrusted primary until its SKUs carry their fences: on a cluster the others go on.
            gate.Close(topology, untrusted);
        }
        if (await db.StringGetAsync(RedisKeyspace.FencedIdentity) != identity.ToString())
        {
            var fenced = await FenceLiveSkusAsync(topology, untrusted, $"redis identity {identity} is not the trusted {recorded?.ToString() ?? "(unknown)"}");
            // Only after every live SKU carries its fence: a process that finds the marker fences nothing more.
            await db.StringSetAsync(RedisKeyspace.FencedIdentity, identity.ToString());
            LogFenced(logger, identity.ToString(), recorded?.ToString() ?? "(unknown)", fenced, string.Join("; ", untrusted));
        }
        if (isNew)
        {
            _seen = identity;
            gate.IdentityChanged();
        }
        gate.Open(topology);
    }

    /// <summary>
    /// Fences the live SKUs that <paramref name="untrusted"/> primaries serve (on a single server: every live SKU). A SKU
    /// split into stock buckets is fenced whole, every live bucket, when any of its buckets is on such a primary.
    /// </summary>
    private async Task<int> FenceLiveSkusAsync(RedisTopology topology, IReadOnlyList<RedisPrimary> untrusted, string reason)
    {
        var live = await RedisKeyspace.LiveSkusAsync(db);
        var hit = live.Where(sku => untrusted.Contains(topology.PrimaryOf(sku))).Select(sku => sku.Home).ToHashSet();
        var skus = live.Where(sku => hit.Contains(sku.Home));
        var outcomes = await Task.WhenAll(skus.Select(sku => scripts.FenceAsync(db, sku, reason)));
        // Coupon pools are decided in Redis like SKUs, so they are fenced (and rebuilt) like SKUs.
        var pools = (await CouponKeyspace.LivePoolsAsync(db)).Where(pool => untrusted.Contains(topology.PrimaryOfSlot(HashSlot.Of(pool.Tag), pool.Member)));
        var poolOutcomes = await Task.WhenAll(pools.Select(pool => couponScripts.FenceAsync(db, pool, reason)));
        return outcomes.Count(o => o == FenceOutcome.Fenced) + poolOutcomes.Count(o => o == FenceOutcome.Fenced);
    }

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e)
    {
        if (e.ConnectionType == ConnectionType.Interactive)
        {
            gate.Close(EndPointCollection.ToString(e.EndPoint));
        }
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        if (e.ConnectionType == ConnectionType.Interactive)
        {
            _ = TryCheckAsync(CancellationToken.None);
        }
    }

    public override void Dispose()
    {
        _checking.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis identity check failed; reservations wait for the next one")]
    private static partial void LogCheckFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The trusted Redis identity could not be read; Redis {Identity} is treated as untrusted")]
    private static partial void LogTrustUnknown(ILogger logger, Exception exception, string identity);

    [LoggerMessage(Level = LogLevel.Error, Message = "Redis {Identity} is not the trusted {Trusted}: it may have forgotten decisions; fenced {Count} live SKU(s) until recovery rebuilds them, those on {Primaries}")]
    private static partial void LogFenced(ILogger logger, string identity, string trusted, int count, string primaries);
}
