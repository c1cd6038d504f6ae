using FlashSale.Engine.Redis;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace FlashSale.Engine.Admission;

/// <summary>
/// The admitting loop: every <see cref="AdmissionOptions.AdmitIntervalMs"/> the Ingress holding the lease
/// (<see cref="RedisKeyspace.AdmissionLease"/>) runs queue-admit.lua once for every SKU in <see cref="RedisKeyspace.QueueSkus"/>:
/// expired waves lapse, a sold-out SKU's admissions are withdrawn, and the next tickets in join order are admitted. Each
/// call is atomic on one SKU's slot and reads everything it decides from, so two loops at once (a lease taken over
/// mid-round) admit no more than one would; the lease only saves the work.
/// </summary>
internal sealed partial class Admitter(
    IDatabase redis,
    SkuScripts scripts,
    AdmissionMetrics metrics,
    IOptions<AdmissionOptions> options,
    TimeProvider time,
    ILogger<Admitter> logger) : BackgroundService
{
    /// <summary>The set of waiting rooms is read again this often (a warm-up adds to it).</summary>
    private static readonly TimeSpan SkuRefresh = TimeSpan.FromSeconds(1);

    private readonly string _owner = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (!settings.AdmitterEnabled)
        {
            return;
        }
        var interval = TimeSpan.FromMilliseconds(settings.AdmitIntervalMs);
        var leaseTime = TimeSpan.FromMilliseconds(Math.Max(settings.AdmitIntervalMs * 20, 5_000));
        using var timer = new PeriodicTimer(interval, time);
        List<SkuKeys> skus = [];
        long? skusReadAt = null;
        try
        {
            do
            {
                var db = redis;
                try
                {
                    if (!await db.LockTakeAsync(RedisKeyspace.AdmissionLease, _owner, leaseTime)
                        && !await db.LockExtendAsync(RedisKeyspace.AdmissionLease, _owner, leaseTime))
                    {
                        continue;
                    }
                    if (skusReadAt is not { } readAt || time.GetElapsedTime(readAt) >= SkuRefresh)
                    {
                        skus = await RedisKeyspace.SkusAsync(db, RedisKeyspace.QueueSkus);
                        skusReadAt = time.GetTimestamp();
                    }
                    if (skus.Count > 0)
                    {
                        skus = await RoundAsync(db, skus);
                    }
                }
                catch (Exception ex) when (ex is RedisException or TimeoutException)
                {
                    LogRoundFailed(logger, ex);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            try
            {
                await redis.LockReleaseAsync(RedisKeyspace.AdmissionLease, _owner);
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                // The lease lapses by itself; another Ingress takes it then.
            }
        }
    }

    /// <summary>One step of every waiting room, the calls pipelined; returns the rooms still to look after.</summary>
    private async Task<List<SkuKeys>> RoundAsync(IDatabase db, List<SkuKeys> skus)
    {
        var replies = await Task.WhenAll(skus.Select(sku => scripts.AdmitAsync(db, sku)));
        var keep = new List<SkuKeys>(skus.Count);
        var done = new List<RedisValue>();
        for (var i = 0; i < skus.Count; i++)
        {
            var reply = replies[i];
            if (reply.AdmittedNow > 0)
            {
                metrics.Admitted(reply.AdmittedNow);
                LogWave(logger, skus[i].Member, reply.AdmittedNow, reply.Admitted, reply.Outstanding, reply.Available);
            }
            // A room whose campaign ended has nothing left to admit; one Redis no longer holds is gone.
            if (!reply.Applies || reply.Ended)
            {
                done.Add(skus[i].Member);
            }
            else
            {
                keep.Add(skus[i]);
            }
        }
        if (done.Count > 0)
        {
            await db.SetRemoveAsync(RedisKeyspace.QueueSkus, [.. done]);
        }
        return keep;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Waiting room {Sku}: admitted {Count} ticket(s), up to #{Admitted}; {Outstanding} token(s) outstanding for {Available} unit(s)")]
    private static partial void LogWave(ILogger logger, string sku, long count, long admitted, long outstanding, long available);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Admitting round failed; the next one retries")]
    private static partial void LogRoundFailed(ILogger logger, Exception exception);
}
