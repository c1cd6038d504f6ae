using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using FlashSale.Engine.Observability;
using FlashSale.Engine.Orders;
using FlashSale.Engine.Redis;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace FlashSale.Engine.Reservations;

/// <summary>
/// Decides reservations. The decision is one Lua script on the SKU's keys (see reserve.lua);
/// this class allocates the order number, asks the sold-out cache first, and reads the reply.
/// A Redis call that fails surfaces as an exception: its outcome is unknown, and the buyer's retry
/// with the same idempotency key is what makes it safe, never a blind retry here.
/// </summary>
public sealed partial class ReservationService(
    IConnectionMultiplexer redis,
    OrderNumberGenerator orderNumbers,
    SoldOutCache soldOut,
    EngineMetrics metrics,
    ILogger<ReservationService> logger)
{
    private readonly ConcurrentDictionary<(string, long), bool> _snapshotsLoading = new();

    // The script's key array per SKU, built once: it is most of what a reservation would otherwise allocate.
    // Only SKUs Redis knows are kept, so requests for made-up SKUs cannot grow it.
    private readonly ConcurrentDictionary<(string, long), RedisKey[]> _scriptKeys = new();

    public async Task<ReservationResult> ReserveAsync(ReservationRequest request)
    {
        if (soldOut.IsSoldOutFor(request))
        {
            metrics.ReservationSoldOutCached();
            return ReservationResult.SoldOut;
        }

        // Null unless a trace exporter listens: then the span costs nothing.
        using var activity = metrics.ActivitySource.StartActivity("Reserve");
        activity?.SetTag("flashsale.campaign_id", request.CampaignId);
        activity?.SetTag("flashsale.sku_id", request.SkuId);

        var keys = new SkuKeys(request.CampaignId, request.SkuId);
        var known = _scriptKeys.TryGetValue((request.CampaignId, request.SkuId), out var scriptKeys);
        scriptKeys ??= keys.ReservationKeys();
        var orderNo = orderNumbers.Next(request.UserId);
        // One async method on purpose: a second awaited layer would cost every reservation a state machine on the heap.
        ReservationResult result;
        try
        {
            var reply = (RedisResult[])(await LuaScripts.Reserve.EvaluateAsync(
                redis.GetDatabase(),
                metrics,
                scriptKeys,
                [
                    request.UserId,
                    request.IdempotencyKey,
                    request.Quantity,
                    orderNo,
                    request.CampaignId,
                    request.SkuId,
                ]))!;
            if (!known && (int)reply[0] != -1)
            {
                _scriptKeys.TryAdd((request.CampaignId, request.SkuId), scriptKeys);
            }
            result = Decide(request, keys, reply);
        }
        catch (Exception ex)
        {
            // The outcome is unknown (the script may have run); counted, and the caller answers 503.
            metrics.ReservationFailed();
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            throw;
        }
        metrics.Reservation(result.Status);
        activity?.SetTag("flashsale.outcome", result.Status.ToString());
        return result;
    }

    private ReservationResult Decide(in ReservationRequest request, SkuKeys keys, RedisResult[] reply)
    {
        var code = (int)reply[0];
        switch (code)
        {
            case 1:
                if ((long)reply[3] == 0)
                {
                    TakeSoldOutSnapshot(keys, (string?)reply[4]);
                }
                var reservation = ReadReservation(request, reply);
                OrderQueries.IndexRecent(redis.GetDatabase(), reservation);
                return new(ReservationStatus.Created, reservation);
            case 2:
                return new(ReservationStatus.Replayed, ReadReservation(request, reply));
            case 3:
                return new(ReservationStatus.IdempotencyKeyReused);
            case -1:
                return new(ReservationStatus.NotOnSale);
            case -2:
                return new(ReservationStatus.NotStarted);
            case -3:
                return new(ReservationStatus.Ended);
            case -4:
                return new(ReservationStatus.PurchaseLimit);
            case -5:
                TakeSoldOutSnapshot(keys, (string?)reply[2]);
                return ReservationResult.SoldOut;
            default:
                throw new InvalidOperationException($"reserve.lua replied with unknown code {code}.");
        }
    }

    private static Reservation ReadReservation(in ReservationRequest request, RedisResult[] reply)
    {
        var orderNo = long.Parse((string)reply[1]!, CultureInfo.InvariantCulture);
        return LedgerRecord.Parse((string)reply[2]!).ToReservation(orderNo, request.CampaignId, request.SkuId);
    }

    private void TakeSoldOutSnapshot(SkuKeys keys, string? generation)
    {
        if (generation is null || !soldOut.Renew(keys.CampaignId, keys.SkuId, generation))
        {
            return;
        }
        // One snapshot per SKU at a time; the requests that trigger it already have their answer.
        if (_snapshotsLoading.TryAdd((keys.CampaignId, keys.SkuId), true))
        {
            _ = LoadSnapshotAsync(keys);
        }
    }

    private async Task LoadSnapshotAsync(SkuKeys keys)
    {
        try
        {
            var reply = (RedisResult[])(await LuaScripts.SoldOutSnapshot.EvaluateAsync(redis.GetDatabase(), metrics, [keys.Meta, keys.Idempotency]))!;
            if ((long)reply[0] == 0)
            {
                soldOut.Store(keys.CampaignId, keys.SkuId, (string)reply[1]!, reply.Skip(2).Select(r => (string)r!));
            }
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // Without a snapshot requests keep going to Redis, which stays correct, only slower.
            LogSnapshotFailed(logger, ex, keys.Tag);
        }
        finally
        {
            _snapshotsLoading.TryRemove((keys.CampaignId, keys.SkuId), out _);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not take the sold-out snapshot of {Sku}")]
    private static partial void LogSnapshotFailed(ILogger logger, Exception exception, string sku);
}
