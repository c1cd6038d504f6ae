using System.Collections.Concurrent;
using System.Diagnostics;
using FlashSale.Engine.Backpressure;
using FlashSale.Engine.Buckets;
using FlashSale.Engine.Campaigns;
using FlashSale.Engine.Coupons;
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
/// Decides reservations. The decision is one Lua script on the SKU's keys (reserve-many.lua) for a whole batch of
/// concurrent requests of one SKU (group commit, see <see cref="SkuLane"/>); this class allocates the order number,
/// asks the sold-out cache first, and reads the reply. A SKU's first request (and every request with
/// <see cref="ReservationOptions.MaxBatch"/> = 1) is decided on its own: only a SKU Redis knows gets a lane, so
/// requests for made-up SKUs cannot grow the process.
/// A Redis call that fails surfaces as an exception for every request of its batch: their outcome is unknown, and
/// the buyer's retry with the same idempotency key is what makes it safe, never a blind retry here.
/// With durable acknowledgement (<see cref="AcknowledgeMode.Durable"/>) a created reservation, and a replay of one
/// whose event is not yet confirmed, is returned only once its batch's record is in Kafka; otherwise the answer is
/// <see cref="ReservationStatus.NotYetDurable"/> and the reservation stands.
/// A SKU split into stock buckets is decided in the buyer's bucket (<see cref="BucketRouting"/>): each bucket is a SKU
/// of its own to the scripts, with a lane, a decision position and a gate of its own. A bucket that answers sold-out
/// while others still hold units is refilled (<see cref="BucketRefill"/>) and the request decided again; the buyer is
/// told sold-out only when no bucket has the units, and only then does the SKU's sold-out snapshot (every bucket's
/// owned keys, every bucket's generation) answer from memory.
/// </summary>
public sealed partial class ReservationService(
    IDatabase redis,
    SkuScripts scripts,
    OrderNumberGenerator orderNumbers,
    SoldOutCache soldOut,
    RedisIdentityGate gate,
    ReservationMetrics metrics,
    IOptions<ReservationOptions> options,
    ILogger<ReservationService> logger,
    BucketMap bucketMap,
    BucketRefill refill,
    IOptions<BucketOptions> bucketOptions,
    DurableAcknowledger? acknowledger = null,
    BackpressureMonitor? backpressure = null,
    CouponReservations? coupons = null)
{
    // Null in Decided mode: the answer follows the decision, the relay moves the event later.
    private readonly DurableAcknowledger? _acknowledger = options.Value.Acknowledge == AcknowledgeMode.Durable ? acknowledger : null;

    private readonly TimeSpan _ackTimeout = TimeSpan.FromMilliseconds(options.Value.DurableAckTimeoutMs);

    private readonly ReservationOptions _settings = options.Value;

    private readonly ConcurrentDictionary<(string, long), bool> _snapshotsLoading = new();

    // The lane of each SKU (each bucket of a split SKU) Redis knows, when batching.
    private readonly ConcurrentDictionary<SkuKeys, SkuLane> _lanes = new();

    // The furthest decision position (epoch, sequence) this process has seen per SKU (per bucket), passed to every decision:
    // a Redis that comes back behind it (a restore, a failover to a lagging replica) fences the SKU on the first request.
    private readonly ConcurrentDictionary<SkuKeys, DecisionPosition> _seen = new();

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

        // The buyer's bucket of a split SKU; a SKU's own keys otherwise (read from Redis once per SKU, then from memory).
        var buckets = await bucketMap.CountAsync(request.CampaignId, request.SkuId);
        var sku = BucketRouting.KeysOf(new SkuKeys(request.CampaignId, request.SkuId), request.UserId, buckets);

        // Here, after the sold-out answer from memory and before anything is decided: while the pipeline is behind,
        // only what decides nothing new goes on (a replay, a sold-out answer, an unknown SKU).
        if (backpressure is { IsBusy: true } && !await DecidesNothingNewAsync(request, sku, buckets))
        {
            metrics.Decided(ReservationStatus.Busy);
            return new(ReservationStatus.Busy);
        }

        if (!gate.IsOpenFor(sku))
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

        var orderNo = orderNumbers.Next(request.UserId);
        // A couponed reservation: Try-coupon first (the coupon's pool, its own hash tag), then the stock's Try below under
        // the order number the coupon is locked for, with its discount; the coupon goes back if the stock is refused.
        CouponHold? hold = null;
        if (request.CouponId is not null)
        {
            var tried = await (coupons ?? throw new InvalidOperationException("Coupons are not registered in this host.")).TryAsync(request, orderNo);
            if (tried.Hold is null)
            {
                metrics.Decided(tried.Refusal);
                return new(tried.Refusal);
            }
            hold = tried.Hold;
            orderNo = hold.OrderNo;
            if (coupons.CrashesBetweenTries && hold.Fresh)
            {
                // Configured for a crash test only: a coupon locked, no stock taken, and nobody left to cancel it (SIGKILL, as kill -9).
                LogCrashPoint(logger, orderNo);
                Process.GetCurrentProcess().Kill();
            }
        }
        var batchRequest = new BatchRequest(request.UserId, request.IdempotencyKey, request.Quantity, orderNo, hold?.Use);
        ReservationResult result;
        try
        {
            var decision = await DecideAsync(sku, batchRequest);
            var soldOutEverywhere = (RefillResult?)null;
            for (var refills = 0; buckets > 1 && decision.Reply.Code == ScriptCode.SoldOut && refills < bucketOptions.Value.MaxRefills; refills++)
            {
                // The buyer's bucket is empty: units may still be in the others.
                See(sku, decision.Reply.Position);
                var refilled = await refill.RefillAsync(sku, buckets, request.Quantity);
                if (refilled.Outcome == RefillOutcome.SoldOut)
                {
                    soldOutEverywhere = refilled;
                    break;
                }
                decision = await DecideAsync(sku, batchRequest);
            }
            var reply = decision.Reply;
            if (reply.Code is not (ScriptCode.NotWarmed or ScriptCode.Fenced))
            {
                See(sku, reply.Position);
            }
            result = buckets > 1 ? DecideInBucket(sku, buckets, reply, soldOutEverywhere) : Decide(sku, reply);
            if (hold is not null && CouponReservations.StockRefused(result.Status, result.PriorOrderNo, hold))
            {
                await coupons!.CancelAsync(hold);
            }
            if (_acknowledger is not null && result.OutboxId is { } outboxId && result.Reservation is { } reservation)
            {
                var started = Stopwatch.GetTimestamp();
                // A replay's event is rebuilt from the ledger: its decision sequence is not known then (0).
                var delivery = result.Status == ReservationStatus.Created && decision.Delivery is { } batch
                    ? batch
                    : _acknowledger.ProduceOrder(sku, Event(reservation, request.IdempotencyKey, 0), outboxId);
                if (await _acknowledger.AwaitAsync(delivery, started, _ackTimeout) != AckOutcome.Durable)
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

    /// <summary>
    /// True when the buyer's Idempotency-Key already owns an order of this SKU: the request is a replay and decides
    /// nothing. One Redis read (the buyer's field of the SKU, or of their bucket); for answers that are refused otherwise
    /// (a rate limit).
    /// </summary>
    public async Task<bool> OwnsOrderAsync(string campaignId, long skuId, long userId, string idempotencyKey)
        => await BuyerRecord.OwnsAsync(redis, await bucketMap.KeysForAsync(campaignId, skuId, userId), userId, idempotencyKey);

    /// <summary>
    /// While the pipeline is behind: true when the request would decide nothing new, so it may go on to the script — a
    /// replay (its key owns an order), a SKU without the units asked for (the script answers sold-out and renews the
    /// sold-out cache), or a SKU Redis does not know (404). One pipelined round trip of two reads (and an HEXISTS for a
    /// buyer whose field does not fold all their keys), paid only while busy;
    /// if Redis does not answer, the request is refused busy like the others (nothing is decided either way).
    /// </summary>
    private async Task<bool> DecidesNothingNewAsync(ReservationRequest request, SkuKeys sku, int buckets)
    {
        var db = redis;
        var owned = db.HashGetAsync(sku.Users, request.UserId);
        // A split SKU lacks the units only when every bucket does (the buyer's bucket would be refilled from the others).
        var available = sku.Home.AllBuckets(buckets).Select(b => db.HashGetAsync(b.Meta, MetaFields.Available)).ToArray();
        try
        {
            await Task.WhenAll([owned, .. available]);
            if (await BuyerRecord.OwnsAsync(db, sku, request.UserId, request.IdempotencyKey, owned.Result))
            {
                return true;
            }
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            return false;
        }
        return available[sku.Bucket].Result.IsNull || available.Sum(a => a.Result.IsNull ? 0 : (long)a.Result) < request.Quantity;
    }

    /// <summary>Decides one request in the SKU's (the bucket's) lane, or in a call of its own while it has none.</summary>
    private Task<Decision> DecideAsync(SkuKeys sku, BatchRequest request)
        => _lanes.TryGetValue(sku, out var lane) ? lane.DecideAsync(request) : DecideAloneAsync(sku, request);

    /// <summary>A request decided in a call of its own: a SKU's first, or every one when batching is off.</summary>
    private async Task<Decision> DecideAloneAsync(SkuKeys sku, BatchRequest request)
    {
        var keys = SkuScripts.ReserveKeys(sku);
        var seen = _seen.GetValueOrDefault(sku);
        var reply = await scripts.ReserveManyAsync(redis, keys, sku, [request], seen);
        if (reply.Code == ScriptCode.NotWarmed)
        {
            return new(new ReserveReply(ScriptCode.NotWarmed), null);
        }
        if (_settings.MaxBatch > 1)
        {
            _lanes.TryAdd(sku, new SkuLane(_settings.MaxBatch, _settings.MaxInFlightPerSku, batch => DecideBatchAsync(sku, keys, batch)));
        }
        return new(reply.Replies[0], Produce(sku, reply));
    }

    /// <summary>A lane's batch: one script call, one record to Kafka, and every ticket answered.</summary>
    private async Task DecideBatchAsync(SkuKeys sku, RedisKey[] keys, Ticket[] batch)
    {
        var requests = new BatchRequest[batch.Length];
        for (var i = 0; i < batch.Length; i++)
        {
            requests[i] = batch[i].Request;
        }
        ReserveManyReply reply;
        try
        {
            reply = await scripts.ReserveManyAsync(redis, keys, sku, requests, _seen.GetValueOrDefault(sku));
        }
        catch (Exception ex)
        {
            foreach (var ticket in batch)
            {
                ticket.TrySetException(ex);
            }
            return;
        }
        metrics.Batch(batch.Length);
        var delivery = Produce(sku, reply);
        for (var i = 0; i < batch.Length; i++)
        {
            batch[i].TrySetResult(reply.Code == ScriptCode.NotWarmed ? new(new ReserveReply(ScriptCode.NotWarmed), null) : new(reply.Replies[i], delivery));
        }
    }

    /// <summary>Starts the produce of a batch's record when the Ingress acknowledges durably and the batch created orders.</summary>
    private DurableDelivery? Produce(SkuKeys sku, ReserveManyReply reply)
        => _acknowledger is not null && reply.OutboxId is { } outboxId && reply.Batch is { } record
            ? _acknowledger.ProduceBatch(sku, outboxId, reply.CreatedOrders, record, reply.DecidedAtMs)
            : null;

    private ReservationResult Decide(SkuKeys sku, in ReserveReply reply)
    {
        switch (reply.Code)
        {
            case ScriptCode.Done:
                if (reply.AvailableAfter == 0)
                {
                    TakeSoldOutSnapshot(sku, reply.Generation);
                }
                return new(ReservationStatus.Created, Reservation.From(reply.OrderNo, sku.CampaignId, sku.SkuId, reply.Record, reply.Coupon), reply.Sequence,
                    reply.OutboxId);
            case ScriptCode.Replayed:
                return new(ReservationStatus.Replayed, Reservation.From(reply.OrderNo, sku.CampaignId, sku.SkuId, reply.Record, reply.Coupon),
                    OutboxId: reply.OutboxId);
            case ScriptCode.Fenced:
                // The fence is in Redis now; the sequence this process saw did its work and must not outlive recovery.
                _seen.TryRemove(sku, out _);
                return new(ReservationStatus.Recovering);
            case ScriptCode.SoldOut:
                TakeSoldOutSnapshot(sku, reply.Generation);
                return ReservationResult.SoldOut;
            case ScriptCode.KeyReused:
                return new(ReservationStatus.IdempotencyKeyReused, PriorOrderNo: reply.OrderNo);
            case ScriptCode.CouponUnavailable:
                return new(ReservationStatus.CouponUnavailable);
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

    /// <summary>
    /// A split SKU's answer: as <see cref="Decide"/>, except that one bucket running out says nothing about the SKU. Only a
    /// refill that found no units in any bucket (<paramref name="soldOutEverywhere"/>) feeds the sold-out cache, with a
    /// snapshot of every bucket.
    /// </summary>
    private ReservationResult DecideInBucket(SkuKeys bucket, int buckets, in ReserveReply reply, RefillResult? soldOutEverywhere)
    {
        switch (reply.Code)
        {
            case ScriptCode.Done:
                return new(ReservationStatus.Created, Reservation.From(reply.OrderNo, bucket.CampaignId, bucket.SkuId, reply.Record, reply.Coupon),
                    reply.Sequence, reply.OutboxId);
            case ScriptCode.SoldOut:
                if (soldOutEverywhere is { Available: 0 } everywhere)
                {
                    TakeSoldOutSnapshot(bucket.Home, everywhere.Generation, buckets);
                }
                return ReservationResult.SoldOut;
            default:
                return Decide(bucket, reply);
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
        sequence,
        reservation.Coupon?.CouponId,
        reservation.Coupon?.DiscountMinor ?? 0,
        reservation.Coupon?.PoolSequence ?? 0);

    private void See(SkuKeys sku, DecisionPosition position)
    {
        // Only ever raised: a slower reply carrying an older position must not lower what was seen.
        _seen.AddOrUpdate(sku, position, (_, current) => position > current ? position : current);
    }

    /// <param name="buckets">The SKU's buckets: a split SKU's snapshot is every bucket's, its generation theirs joined (<c>g0,g1,…</c>).</param>
    private void TakeSoldOutSnapshot(SkuKeys sku, string? generation, int buckets = 1)
    {
        if (generation is null || !soldOut.Renew(sku.CampaignId, sku.SkuId, generation))
        {
            return;
        }
        // One snapshot per SKU at a time; the requests that trigger it already have their answer.
        if (_snapshotsLoading.TryAdd((sku.CampaignId, sku.SkuId), true))
        {
            _ = LoadSnapshotAsync(sku, buckets);
        }
    }

    private async Task LoadSnapshotAsync(SkuKeys sku, int buckets)
    {
        try
        {
            if (buckets > 1)
            {
                // Each bucket's snapshot is atomic, the SKU's is not: stock returning to a bucket read earlier publishes its
                // signal, and an entry stored after it lapses within the cache's second, as for a SKU that is not split.
                var snapshots = await Task.WhenAll(sku.AllBuckets(buckets).Select(b => scripts.SoldOutSnapshotAsync(redis, b)));
                if (snapshots.All(s => s is { Available: 0 }))
                {
                    soldOut.Store(sku.CampaignId, sku.SkuId, string.Join(",", snapshots.Select(s => s!.Generation)), snapshots.SelectMany(s => s!.Buyers));
                }
            }
            else if (await scripts.SoldOutSnapshotAsync(redis, sku) is { Available: 0 } snapshot)
            {
                soldOut.Store(sku.CampaignId, sku.SkuId, snapshot.Generation, snapshot.Buyers);
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

    [LoggerMessage(Level = LogLevel.Critical, Message = "Coupons:CrashPoint between-tries: killing this process after the Try-coupon of order {OrderNo}")]
    private static partial void LogCrashPoint(ILogger logger, long orderNo);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not take the sold-out snapshot of {Sku}")]
    private static partial void LogSnapshotFailed(ILogger logger, Exception exception, string sku);
}
