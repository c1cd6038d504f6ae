using Confluent.Kafka;
using FlashSale.Engine.Coupons;
using FlashSale.Engine.Redis;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MySqlConnector;
using StackExchange.Redis;

namespace FlashSale.Engine.Reconciliation;

/// <summary>
/// Runs the reconciler over every active campaign on a timer, repairing what drifted, and rebuilds fenced SKUs
/// (<see cref="SkuRecovery"/>) as soon as it finds them: it looks every <see cref="ReconcilerOptions.FenceCheckIntervalMs"/>,
/// so a Redis that lost decisions is back on sale within moments of the Persisters catching up, not a round later.
/// With several Persisters, a short Redis lease lets one of them do each step; the repairs are idempotent, so a
/// lease that lapses mid-round costs double work, never a double repair.
/// </summary>
internal sealed partial class ReconcilerService(
    Reconciler reconciler,
    SkuRecovery recovery,
    ReconcilerMetrics metrics,
    IDatabase db,
    IOptions<ReconcilerOptions> options,
    TimeProvider time,
    ILogger<ReconcilerService> logger,
    CouponReconciler? coupons = null) : BackgroundService
{
    private readonly string _owner = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (!settings.Enabled)
        {
            LogDisabled(logger);
            return;
        }
        var interval = TimeSpan.FromMilliseconds(settings.IntervalMs);
        var leaseTime = TimeSpan.FromMilliseconds(Math.Max(interval.TotalMilliseconds * 5, 10_000));
        var tick = TimeSpan.FromMilliseconds(Math.Min(settings.FenceCheckIntervalMs, settings.IntervalMs));
        using var timer = new PeriodicTimer(tick, time);
        // A round is due once an interval has passed, give or take half a tick of timer jitter: with an interval of one
        // tick, a round that came due a microsecond late would otherwise wait for the next tick.
        var roundDue = interval - tick / 2;
        long? lastRound = null;
        long? lastTrustCheck = null;
        do
        {
            try
            {
                // A lease naming this process that it did not take now came back with Redis's data (a snapshot taken
                // while it held one): it is still this process's, or recovery would wait for it to expire.
                if (!await db.LockTakeAsync(RedisKeyspace.ReconcilerLease, _owner, leaseTime)
                    && await db.LockQueryAsync(RedisKeyspace.ReconcilerLease) != _owner)
                {
                    metrics.Fenced(-1);
                    continue;
                }
                try
                {
                    try
                    {
                        var trustCheckDue = lastTrustCheck is not { } checkedAt || time.GetElapsedTime(checkedAt) >= TimeSpan.FromSeconds(1);
                        if (trustCheckDue)
                        {
                            lastTrustCheck = time.GetTimestamp();
                        }
                        await RecoverAsync(trustCheckDue, stoppingToken);
                    }
                    catch (Exception ex) when (ex is MySqlException or RedisException or TimeoutException or KafkaException)
                    {
                        // The fenced SKUs stay fenced; the rest of the round goes on, and the next tick tries again.
                        LogRecoveryFailed(logger, ex);
                    }
                    if (lastRound is not { } last || time.GetElapsedTime(last) >= roundDue)
                    {
                        lastRound = time.GetTimestamp();
                        await RoundAsync(stoppingToken);
                    }
                }
                finally
                {
                    await db.LockReleaseAsync(RedisKeyspace.ReconcilerLease, _owner);
                }
            }
            catch (Exception ex) when (ex is MySqlException or RedisException or TimeoutException or KafkaException)
            {
                LogRoundFailed(logger, ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <param name="trustCheckDue">Whether to see if an untrusted Redis is rebuilt (two reads of its topology): once a second is enough.</param>
    private async Task RecoverAsync(bool trustCheckDue, CancellationToken stoppingToken)
    {
        var fenced = await recovery.FencedAsync();
        metrics.Fenced(fenced.Count);
        if (fenced.Count > 0)
        {
            await recovery.RecoverAsync(fenced, stoppingToken);
            fenced = await recovery.FencedAsync();
            metrics.Fenced(fenced.Count);
        }
        // Coupon pools are fenced and rebuilt like SKUs (their own keys, the same Kafka catch-up).
        if (coupons is not null && await coupons.FencedAsync() is { Count: > 0 } pools)
        {
            await coupons.RecoverAsync(pools, stoppingToken);
        }
        if (fenced.Count == 0 && trustCheckDue)
        {
            await recovery.TrustIfRebuiltAsync(stoppingToken);
        }
    }

    private async Task RoundAsync(CancellationToken stoppingToken)
    {
        var started = time.GetTimestamp();
        var campaigns = await reconciler.ActiveCampaignsAsync(stoppingToken);
        long skus = 0, drift = 0;
        var ledgers = new List<SkuLedger>();
        foreach (var campaign in campaigns)
        {
            IReadOnlyList<SkuReconciliation> results;
            try
            {
                results = await reconciler.ReconcileRoundAsync(campaign, stoppingToken);
            }
            catch (FormatException ex)
            {
                // A ledger entry or outbox entry written by something other than the engine's scripts: the other
                // campaigns are still reconciled, and this one is named until an operator looks.
                LogUnreadable(logger, ex, campaign.CampaignId);
                continue;
            }
            if (coupons is not null && campaign.CouponPools.Count > 0)
            {
                try
                {
                    foreach (var pool in await coupons.ReconcileAsync(campaign, repair: true, stoppingToken))
                    {
                        drift += pool.After.Drift;
                    }
                }
                catch (FormatException ex)
                {
                    LogUnreadable(logger, ex, campaign.CampaignId);
                }
            }
            foreach (var sku in results)
            {
                skus++;
                drift += sku.After.Drift;
                ledgers.Add(sku.After);
                if (sku.Before.Drift > 0 || sku.Repairs.Count > 0)
                {
                    LogSku(logger, sku.Before.CampaignId, sku.Before.SkuId, sku.Before.Drift,
                        string.Join(", ", sku.Repairs.Select(r => $"{r.Key} {r.Value}")), sku.After.Drift);
                }
            }
        }
        reconciler.ForgetAllBut(campaigns);
        var elapsed = time.GetElapsedTime(started);
        metrics.Run(elapsed, drift);
        // A few missed rounds and the report is gone: the console then says no reconciler reported, not an old "no drift".
        var reportTtl = TimeSpan.FromMilliseconds(Math.Max(options.Value.IntervalMs * 3L, 60_000));
        await ReconcilerReport.Of(time.GetUtcNow(), [.. campaigns.Select(c => c.CampaignId)], ledgers).WriteAsync(db, reportTtl);
        LogRound(logger, skus, campaigns.Count, drift, (long)elapsed.TotalMilliseconds);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Reconciler disabled (Reconciler:Enabled=false)")]
    private static partial void LogDisabled(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reconciler: {CampaignId}/{SkuId} drift {Before} unit(s); repaired [{Repairs}]; drift now {After}")]
    private static partial void LogSku(ILogger logger, string campaignId, long skuId, long before, string repairs, long after);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Reconciler round: {Skus} SKU(s) of {Campaigns} campaign(s), drift {Drift} unit(s) after repairs, {ElapsedMs} ms")]
    private static partial void LogRound(ILogger logger, long skus, int campaigns, long drift, long elapsedMs);

    [LoggerMessage(Level = LogLevel.Error, Message = "Reconciler: campaign {CampaignId} has Redis data the reconciler cannot read; skipped")]
    private static partial void LogUnreadable(ILogger logger, Exception exception, string campaignId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Recovery of fenced SKUs failed; they stay fenced and the next check tries again")]
    private static partial void LogRecoveryFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reconciler round failed; the next one retries")]
    private static partial void LogRoundFailed(ILogger logger, Exception exception);
}
