using System.Collections.Concurrent;
using System.Diagnostics;
using FlashSale.Contracts;
using FlashSale.LoadTests.EngineApi;

namespace FlashSale.LoadTests.Scenarios.FullSale;

/// <summary>One reading of the SKU: the public view, and the admin ledger when the endpoint answers.</summary>
public sealed record StockSample(double Seconds, int Total, int Available, SkuLedgerView? Ledger);

/// <summary>
/// Reads the SKU every <see cref="Interval"/> while the sale runs and settles: the public stock view
/// (<c>available</c> never below 0 nor above the total) and, while the endpoint exists, the admin ledger,
/// whose Redis and MySQL sides must never hold more units (pending + paid) than the SKU has.
/// </summary>
public sealed class StockTimeline(EngineClient observer, string campaignId, long skuId) : IAsyncDisposable
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);

    private readonly ConcurrentQueue<StockSample> _samples = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly long _start = Stopwatch.GetTimestamp();
    private Task? _sampling;
    private long _failures;

    /// <summary>Null until the first ledger read; false once it answered 404 (the endpoint is missing), after which it is not asked again.</summary>
    public bool? LedgerAvailable { get; private set; }

    public long Failures => Interlocked.Read(ref _failures);

    public IReadOnlyList<StockSample> Samples => [.. _samples];

    public void Start() => _sampling = RunAsync(_stop.Token);

    /// <summary>The time axis of the samples, for placing other events on it.</summary>
    public double SecondsSinceStart(long timestamp) => Stopwatch.GetElapsedTime(_start, timestamp).TotalSeconds;

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        if (_sampling is not null)
        {
            await _sampling;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(Interval);
        try
        {
            do
            {
                await SampleAsync(cancellationToken);
            }
            while (await timer.WaitForNextTickAsync(cancellationToken));
        }
        catch (OperationCanceledException)
        {
            // Stopped: the sale has settled.
        }
    }

    private async Task SampleAsync(CancellationToken cancellationToken)
    {
        try
        {
            var view = await observer.GetSkuAsync(campaignId, skuId, cancellationToken);
            SkuLedgerView? ledger = null;
            if (LedgerAvailable is not false)
            {
                var (found, status, _) = await observer.GetLedgerAsync(campaignId, skuId, cancellationToken);
                LedgerAvailable = status != 404;
                ledger = found;
            }
            _samples.Enqueue(new StockSample(Stopwatch.GetElapsedTime(_start).TotalSeconds, view.Total, view.Available, ledger));
        }
        catch (Exception ex) when (ex is SetupException or HttpRequestException or System.Text.Json.JsonException
            || (ex is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            Interlocked.Increment(ref _failures);
        }
    }
}
