using System.Collections.Concurrent;
using FlashSale.Engine.Redis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace FlashSale.Engine.Buckets;

public enum RefillOutcome
{
    /// <summary>The bucket has the units now, or may have (units moved, or moved by someone else): decide again.</summary>
    Retry,

    /// <summary>No bucket has the units (and none is on its way): the SKU is sold out for this quantity.</summary>
    SoldOut,
}

/// <summary>
/// A refill's answer. <see cref="Available"/> is the units of every bucket together as it last read them, and
/// <see cref="Generation"/> their stock generations (<c>g0,g1,…</c>): the sold-out cache's generation of a split SKU.
/// </summary>
public readonly record struct RefillResult(RefillOutcome Outcome, long Available, string Generation);

/// <summary>
/// Brings stock to a bucket that ran out while others still have some: one refill at a time per bucket in this process
/// (the requests that found the bucket empty meanwhile wait for it and then try again). It reads every bucket, and moves
/// from the fullest others, as much as the request needs and at least half of what each donor has, so a bucket that keeps
/// selling refills seldom; units on their way between two buckets (open transfers) are waited for, for at most
/// <see cref="BucketOptions.TransitWaitMs"/>, before the SKU is called sold out.
/// </summary>
public sealed class BucketRefill(IDatabase db, StockTransfers transfers, IOptions<BucketOptions> options, TimeProvider time)
{
    private static readonly TimeSpan TransitPoll = TimeSpan.FromMilliseconds(10);

    private static readonly RedisValue[] StateFields = [MetaFields.Available, MetaFields.Epoch, MetaFields.Fenced, MetaFields.Generation];

    private readonly ConcurrentDictionary<SkuKeys, Task<RefillResult>> _running = new();

    /// <summary>Refills <paramref name="receiver"/> (one of <paramref name="buckets"/> buckets) for a request of <paramref name="quantity"/>, or joins the refill under way.</summary>
    public Task<RefillResult> RefillAsync(SkuKeys receiver, int buckets, int quantity)
    {
        while (true)
        {
            if (_running.TryGetValue(receiver, out var running))
            {
                return running;
            }
            var refill = new TaskCompletionSource<RefillResult>(TaskCreationOptions.RunContinuationsAsynchronously);
            if (_running.TryAdd(receiver, refill.Task))
            {
                _ = RunAsync(receiver, buckets, quantity, refill);
                return refill.Task;
            }
        }
    }

    private async Task RunAsync(SkuKeys receiver, int buckets, int quantity, TaskCompletionSource<RefillResult> refill)
    {
        try
        {
            refill.TrySetResult(await RefillOnceAsync(receiver, buckets, quantity));
        }
        catch (Exception ex)
        {
            refill.TrySetException(ex);
        }
        finally
        {
            _running.TryRemove(receiver, out _);
        }
    }

    private async Task<RefillResult> RefillOnceAsync(SkuKeys receiver, int buckets, int quantity)
    {
        var started = time.GetTimestamp();
        var all = receiver.AllBuckets(buckets);
        while (true)
        {
            var states = await ReadAsync(all);
            var me = states[receiver.Bucket];
            var total = states.Sum(s => s.Available);
            var generation = string.Join(",", states.Select(s => s.Generation));
            if (me.Fenced || me.Available >= quantity)
            {
                // A fenced bucket answers recovering when asked again; one with the units sells them.
                return new(RefillOutcome.Retry, total, generation);
            }
            if (total >= quantity)
            {
                var have = me.Available;
                foreach (var donor in states.Where(s => s.Bucket != receiver.Bucket && !s.Fenced && s.Available > 0).OrderByDescending(s => s.Available))
                {
                    if (have >= quantity)
                    {
                        break;
                    }
                    var ask = (int)Math.Min(donor.Available, Math.Max(quantity - have, (donor.Available + 1) / 2));
                    have += await transfers.MoveAsync(all[donor.Bucket], receiver, ask, me.Epoch);
                }
                return new(RefillOutcome.Retry, total, generation);
            }
            if (states.Any(s => s.OpenTransfers > 0) && time.GetElapsedTime(started) < TimeSpan.FromMilliseconds(options.Value.TransitWaitMs))
            {
                await Task.Delay(TransitPoll, time);
                continue;
            }
            return new(RefillOutcome.SoldOut, total, generation);
        }
    }

    /// <summary>Every bucket's stock, epoch, fence, generation and open transfers, in one pipelined round trip.</summary>
    private async Task<BucketState[]> ReadAsync(SkuKeys[] all)
    {
        var metas = all.Select(b => db.HashGetAsync(b.Meta, StateFields)).ToArray();
        var open = all.Select(b => db.HashLengthAsync(b.TransfersOpen)).ToArray();
        await Task.WhenAll(Task.WhenAll(metas), Task.WhenAll(open));
        var states = new BucketState[all.Length];
        for (var b = 0; b < all.Length; b++)
        {
            var meta = metas[b].Result;
            states[b] = new BucketState(b, meta[0].IsNull ? 0 : (long)meta[0], meta[1].IsNull ? "0" : meta[1].ToString(), !meta[2].IsNull,
                meta[3].IsNull ? "" : meta[3].ToString(), open[b].Result);
        }
        return states;
    }

    private readonly record struct BucketState(int Bucket, long Available, string Epoch, bool Fenced, string Generation, long OpenTransfers);
}
