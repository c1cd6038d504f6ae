using System.Collections.Concurrent;
using System.Diagnostics;
using FlashSale.Engine.Campaigns;
using FlashSale.Engine.Fencing;
using FlashSale.Engine.Kafka;
using FlashSale.Engine.Redis;
using FlashSale.Engine.Relay;
using FlashSale.Engine.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace FlashSale.Engine.Reservations;

/// <summary>
/// Decides reservations. The decision is one Lua script on the SKU's keys (see reserve.lua);
/// this class allocates the order number, asks the sold-out cache first, and reads the reply.
/// A Redis call that fails surfaces as an exception: its outcome is unknown, and the buyer's retry
/// with the same idempotency key is what makes it safe, never a blind retry here.
/// With durable acknowledgement (<see cref="AcknowledgeMode.Durable"/>) a created reservation, and a replay of one
/// whose event is not yet confirmed, is returned only once its event is in Kafka; otherwise the answer is
/// <see cref="ReservationStatus.NotYetDurable"/> and the reservation stands.
/// </summary>
public sealed partial class ReservationService(
    IConnectionMultiplexer redis,
    SkuScripts scripts,
    OrderNumberGenerator orderNumbers,
    SoldOutCache soldOut,
    RedisIdentityGate gate,
    ReservationMetrics metrics,
    IOptions<ReservationOptions> options,
    ILogger<ReservationService> logger,
    DurableAcknowledger? acknowledger = null)
{
    // Null in Decided mode: the answer follows the decision, the relay moves the event later.
    private readonly DurableAcknowledger? _acknowledger = options.Value.Acknowledge == AcknowledgeMode.Durable ? acknowledger : null;

    private readonly TimeSpan _ackTimeout = TimeSpan.FromMilliseconds(options.Value.DurableAckTimeoutMs);

    /// <summary>How long a buyer's recent reservations stay findable in Redis before they must be in MySQL.</summary>
    public static readonly TimeSpan RecentIndexLifetime = TimeSpan.FromDays(1);

    private readonly ConcurrentDictionary<(string, long), bool> _snapshotsLoading = new();

    // The script's key array per SKU, built once: it is most of what a reservation would otherwise allocate.
    // Only SKUs Redis knows are kept, so requests for made-up SKUs cannot grow it.
    private readonly ConcurrentDictionary<(string, long), RedisKey[]> _scriptKeys = new();

    // The furthest decision position (epoch, sequence) this process has seen per SKU, passed to every decision:
    // a Redis that comes back behind it (a restore, a failover to a lagging replica) fences the SKU on the first request.
    private readonly ConcurrentDictionary<(string, long), DecisionPosition> _seen = new();

    // The gate's identity epoch _seen belongs to: the sequences seen on a Redis that has since been replaced (and
    // fenced) say nothing about the new one; kept, they would fence a SKU again the moment recovery lifted its fence.
    private int _seenEpoch;

    public async Task<ReservationResult> ReserveAsync(ReservationRequest request)
    {
        if (soldOut.IsSoldOutFor(request))
        {
            metrics.SoldOutFromMemory();
            return ReservationResult.SoldOut;
        }

        if (!gate.IsOpen)
        {
            // The connection was lost and the server it reaches now is not checked yet: it may be one that forgot decisions.
            metrics.Decided(ReservationStatus.Recovering);
            return new(ReservationStatus.Recovering);
        }
        if (gate.Epoch != Volatile.Read(ref _seenEpoch))
        {
            _seen.Clear();
            Volatile.Write(ref _seenEpoch, gate.Epoch);
        }

        // Null unless a trace exporter listens: then the span costs nothing.
        using var activity = EngineTelemetry.ActivitySource.StartActivity("Reserve");
        activity?.SetTag("flashsale.campaign_id", request.CampaignId);
        activity?.SetTag("flashsale.sku_id", request.SkuId);

        var sku = new SkuKeys(request.CampaignId, request.SkuId);
        var known = _scriptKeys.TryGetValue((request.CampaignId, request.SkuId), out var scriptKeys);
        scriptKeys ??= SkuScripts.ReserveKeys(sku);
        var orderNo = orderNumbers.Next(request.UserId);
        // One async method on purpose: a second awaited layer would cost every reservation a state machine on the heap.
        ReservationResult result;
        try
        {
            var seen = known ? _seen.GetValueOrDefault((request.CampaignId, request.SkuId)) : default;
            var reply = await scripts.ReserveAsync(
                redis.GetDatabase(), scriptKeys, sku, request.UserId, request.IdempotencyKey, request.Quantity, orderNo, seen);
            if (reply.Code != ScriptCode.NotWarmed)
            {
                if (!known)
                {
                    _scriptKeys.TryAdd((request.CampaignId, request.SkuId), scriptKeys);
                }
                if (reply.Code != ScriptCode.Fenced && reply.Position > seen)
                {
                    See((request.CampaignId, request.SkuId), reply.Position);
                }
            }
            result = Decide(sku, reply);
            if (_acknowledger is not null && result.OutboxId is { } outboxId && result.Reservation is { } reservation)
            {
                // A replay's event is rebuilt from the ledger: its decision sequence is not known then (0).
                var durable = await _acknowledger.AwaitDurableAsync(sku, Event(reservation, request.IdempotencyKey, result.Sequence), outboxId, _ackTimeout);
                if (durable != AckOutcome.Durable)
                {
                    result = result with { Status = ReservationStatus.NotYetDurable };
                }
            }
        }
        catch (Exception ex)
        {
            // The outcome is unknown (the script may have run); counted, and the caller answers 503.
            metrics.Failed();
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            throw;
        }
        metrics.Decided(result.Status);
        activity?.SetTag("flashsale.outcome", result.Status.ToString());
        return result;
    }

    private ReservationResult Decide(SkuKeys sku, in ReserveReply reply)
    {
        switch (reply.Code)
        {
            case ScriptCode.Done:
                if (reply.AvailableAfter == 0)
                {
                    TakeSoldOutSnapshot(sku, reply.Generation);
                }
                var reservation = Reservation.From(reply.OrderNo, sku.CampaignId, sku.SkuId, reply.Record);
                IndexRecent(sku, reservation);
                return new(ReservationStatus.Created, reservation, reply.Sequence, reply.OutboxId);
            case ScriptCode.Replayed:
                return new(ReservationStatus.Replayed, Reservation.From(reply.OrderNo, sku.CampaignId, sku.SkuId, reply.Record), OutboxId: reply.OutboxId);
            case ScriptCode.Fenced:
                // The fence is in Redis now; the sequence this process saw did its work and must not outlive recovery.
                _seen.TryRemove((sku.CampaignId, sku.SkuId), out _);
                return new(ReservationStatus.Recovering);
            case ScriptCode.SoldOut:
                TakeSoldOutSnapshot(sku, reply.Generation);
                return ReservationResult.SoldOut;
            case ScriptCode.KeyReused:
                return new(ReservationStatus.IdempotencyKeyReused);
            case ScriptCode.NotWarmed:
                return new(ReservationStatus.NotOnSale);
            case ScriptCode.NotStarted:
                return new(ReservationStatus.NotStarted);
            case ScriptCode.Ended:
                return new(ReservationStatus.Ended);
            default:
                return new(ReservationStatus.PurchaseLimit);
        }
    }

    private static ReservationEvent Event(Reservation reservation, string idempotencyKey, long sequence) => new(
        ReservationEvent.CurrentVersion,
        reservation.OrderNo,
        reservation.UserId,
        reservation.CampaignId,
        reservation.SkuId,
        reservation.Quantity,
        Money.ToMinor(reservation.Amount),
        reservation.CreatedAt.ToUnixTimeMilliseconds(),
        reservation.PaymentDeadline.ToUnixTimeMilliseconds(),
        idempotencyKey,
        sequence);

    private void See((string, long) sku, DecisionPosition position)
    {
        // Only ever raised: a slower reply carrying an older position must not lower what was seen.
        _seen.AddOrUpdate(sku, position, (_, current) => position > current ? position : current);
    }

    /// <summary>
    /// The buyer's index of orders not yet in MySQL (<see cref="RedisKeyspace.RecentOrders"/>), for read-your-writes;
    /// fire-and-forget: the order is in the SKU ledger whatever happens here.
    /// </summary>
    private void IndexRecent(SkuKeys sku, Reservation reservation)
    {
        var db = redis.GetDatabase();
        var key = RedisKeyspace.RecentOrders(reservation.UserId);
        db.HashSet(key, reservation.OrderNo, sku.Member, flags: CommandFlags.FireAndForget);
        db.KeyExpire(key, RecentIndexLifetime, CommandFlags.FireAndForget);
    }

    private void TakeSoldOutSnapshot(SkuKeys sku, string? generation)
    {
        if (generation is null || !soldOut.Renew(sku.CampaignId, sku.SkuId, generation))
        {
            return;
        }
        // One snapshot per SKU at a time; the requests that trigger it already have their answer.
        if (_snapshotsLoading.TryAdd((sku.CampaignId, sku.SkuId), true))
        {
            _ = LoadSnapshotAsync(sku);
        }
    }

    private async Task LoadSnapshotAsync(SkuKeys sku)
    {
        try
        {
            if (await scripts.SoldOutSnapshotAsync(redis.GetDatabase(), sku) is { Available: 0 } snapshot)
            {
                soldOut.Store(sku.CampaignId, sku.SkuId, snapshot.Generation, snapshot.OwnedKeys);
            }
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // Without a snapshot requests keep going to Redis, which stays correct, only slower.
            LogSnapshotFailed(logger, ex, sku.Tag);
        }
        finally
        {
            _snapshotsLoading.TryRemove((sku.CampaignId, sku.SkuId), out _);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not take the sold-out snapshot of {Sku}")]
    private static partial void LogSnapshotFailed(ILogger logger, Exception exception, string sku);
}
