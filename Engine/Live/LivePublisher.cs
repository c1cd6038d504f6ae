using FlashSale.Engine.Redis;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace FlashSale.Engine.Live;

/// <summary>
/// Adds this Ingress's live counts (<see cref="LiveCounters"/>) to the deployment's hash of the second that just ended, a
/// little after each second's boundary: one script call a second while there is traffic, none while there is none. The
/// console sums every Ingress's counts from there. Counts whose call fails are dropped: they are a live view, not a record.
/// </summary>
public sealed partial class LivePublisher(
    LiveCounters counters, IDatabase redis, SkuScripts scripts, TimeProvider time, ILogger<LivePublisher> logger) : BackgroundService
{
    /// <summary>How long a second's counts stay in Redis: the console reads the last few.</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromSeconds(120);

    /// <summary>After a second's boundary, when its counts are added: the console reads them half a second in.</summary>
    public static readonly TimeSpan PublishOffset = TimeSpan.FromMilliseconds(50);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            await Task.Delay(UntilNext(time.GetUtcNow(), PublishOffset), time, stoppingToken);
            var second = time.GetUtcNow().ToUnixTimeSeconds() - 1;
            var counts = counters.Take();
            if (counts.Count == 0)
            {
                continue;
            }
            counts.Add(new(LiveFields.Reporting, 1));
            try
            {
                await scripts.AddLiveCountsAsync(redis, RedisKeyspace.LiveSecond(second), Retention, counts);
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                LogDropped(logger, ex, second);
            }
        }
    }

    /// <summary>From <paramref name="now"/> to <paramref name="offset"/> past the next second's boundary.</summary>
    public static TimeSpan UntilNext(DateTimeOffset now, TimeSpan offset)
    {
        var intoSecond = TimeSpan.FromMilliseconds(now.ToUnixTimeMilliseconds() % 1_000);
        var wait = offset - intoSecond;
        return wait > TimeSpan.Zero ? wait : wait + TimeSpan.FromSeconds(1);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Live counts of second {Second} not added: Redis did not answer")]
    private static partial void LogDropped(ILogger logger, Exception exception, long second);
}
