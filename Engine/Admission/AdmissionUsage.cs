using FlashSale.Engine.Redis;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace FlashSale.Engine.Admission;

/// <summary>
/// Counts admission tokens as used right after their reservation was created (queue-use.lua, one call per SKU for
/// whatever arrived meanwhile), off the request path. A count lost with the process or with Redis leaves the token
/// outstanding until it expires: its slot comes back later, never twice.
/// </summary>
internal sealed partial class AdmissionUsage(
    WaitingRoom room, IDatabase redis, SkuScripts scripts, AdmissionMetrics metrics, ILogger<AdmissionUsage> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var reader = room.UsedAdmissions;
        var batch = new Dictionary<SkuKeys, List<long>>();
        try
        {
            while (await reader.WaitToReadAsync(stoppingToken))
            {
                batch.Clear();
                while (reader.TryRead(out var used))
                {
                    if (!batch.TryGetValue(used.Sku, out var sequences))
                    {
                        batch[used.Sku] = sequences = [];
                    }
                    sequences.Add(used.Sequence);
                }
                var db = redis;
                foreach (var (sku, sequences) in batch)
                {
                    try
                    {
                        metrics.Used(await scripts.UseAdmissionsAsync(db, sku, sequences));
                    }
                    catch (Exception ex) when (ex is RedisException or TimeoutException)
                    {
                        LogFailed(logger, ex, sku.Member, sequences.Count);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Waiting room {Sku}: {Count} used admission(s) not counted; their slots come back when they expire")]
    private static partial void LogFailed(ILogger logger, Exception exception, string sku, int count);
}
