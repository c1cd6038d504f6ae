using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MySqlConnector;
using StackExchange.Redis;

namespace FlashSale.Engine.Lifecycle;

/// <summary>The payment-window scan's settings; in the <c>Persister</c> section, which runs it.</summary>
public sealed class PaymentTimeoutOptions
{
    public const string Section = "Persister";

    /// <summary>How often expired payment windows are looked for; a unit comes back at most this late.</summary>
    [Range(10, 600_000)]
    public int TimeoutScanIntervalMs { get; set; } = 1_000;

    /// <summary>Orders cancelled (and releases retried) per shard per scan.</summary>
    [Range(1, 10_000)]
    public int TimeoutBatchSize { get; set; } = 500;
}

/// <summary>
/// Cancels orders whose payment window closed and returns their units, on a timer. The database is
/// the truth (a deadline column and a released flag), not a timer per order in memory, so a restart or
/// a second Persister changes nothing: the conditional update lets one of them cancel, and the release
/// script returns a unit once whoever runs it.
/// </summary>
internal sealed partial class PaymentTimeoutService(
    OrderLifecycle lifecycle,
    IOptions<PaymentTimeoutOptions> options,
    TimeProvider time,
    ILogger<PaymentTimeoutService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(settings.TimeoutScanIntervalMs), time);
        do
        {
            try
            {
                int cancelled, released;
                // A backlog (after a big sale, or a Persister that was down) is worked off without waiting for ticks.
                do
                {
                    cancelled = await lifecycle.CancelExpiredAsync(time.GetUtcNow(), settings.TimeoutBatchSize, stoppingToken);
                    released = await lifecycle.ReleasePendingAsync(settings.TimeoutBatchSize, stoppingToken);
                    if (cancelled + released > 0)
                    {
                        LogScan(logger, cancelled, released);
                    }
                }
                while (cancelled >= settings.TimeoutBatchSize || released >= settings.TimeoutBatchSize);
            }
            catch (Exception ex) when (ex is MySqlException or RedisException or TimeoutException)
            {
                LogScanFailed(logger, ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Payment window: cancelled {Cancelled} expired orders, returned the stock of {Released} to the sale")]
    private static partial void LogScan(ILogger logger, int cancelled, int released);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Payment-window scan failed; the next one retries")]
    private static partial void LogScanFailed(ILogger logger, Exception exception);
}
