using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MySqlConnector;
using StackExchange.Redis;

namespace FlashSale.Engine.Coupons;

/// <summary>
/// The Persister's orphan sweep (<see cref="CouponSweeper"/>) on a timer, every <see cref="CouponOptions.SweepIntervalMs"/>.
/// Several Persisters may sweep at once: every step re-checks its condition in a script.
/// </summary>
internal sealed partial class CouponSweepService(
    CouponSweeper sweeper,
    IOptions<CouponOptions> options,
    TimeProvider time,
    ILogger<CouponSweepService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(options.Value.SweepIntervalMs), time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                var result = await sweeper.SweepAsync(stoppingToken);
                if (result.Cancelled + result.Skipped > 0)
                {
                    LogSwept(logger, result.Cancelled, result.Attached, result.Skipped);
                }
            }
            catch (Exception ex) when (ex is MySqlException or RedisException or TimeoutException)
            {
                LogFailed(logger, ex);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Coupon sweep: gave back {Cancelled} orphaned coupon(s), {Attached} belong to orders, {Skipped} wait for a fenced SKU")]
    private static partial void LogSwept(ILogger logger, int cancelled, int attached, int skipped);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Coupon sweep failed; the next one retries")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
