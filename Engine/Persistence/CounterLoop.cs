using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace FlashSale.Engine.Persistence;

/// <summary>
/// Applies the shards' counter deltas every <see cref="PersistenceOptions.CounterIntervalMs"/>, apart from
/// the batches: a batch used to pay a read of every shard's outbox and a catalog transaction after it
/// committed, so a burst of batches paid that many times over for counters nobody reads per batch. Deltas
/// of payments and cancels, which come without any batch, are applied on the same beat.
/// </summary>
public sealed partial class CounterLoop(
    CounterApplier counters,
    CouponCounterApplier couponCounters,
    IOptions<PersistenceOptions> options,
    TimeProvider time,
    ILogger<CounterLoop> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(options.Value.CounterIntervalMs), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await counters.ApplyAsync(stoppingToken);
                    await couponCounters.ApplyAsync(stoppingToken);
                }
                catch (MySqlException ex)
                {
                    // The deltas wait in the shards' counter_outbox; the next tick applies them, exactly once.
                    LogFailed(logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Applying counter deltas failed; they wait for the next interval")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
