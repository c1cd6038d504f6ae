using System.Collections.Concurrent;
using FlashSale.Engine.Redis;
using FlashSale.Engine.Reservations;

namespace FlashSale.Tests.Reservations;

/// <summary>
/// The group commit's scheduling (<see cref="SkuLane"/>), with a decision the test controls in place of the script call:
/// an idle SKU's request goes out at once; behind a call in flight a few requests wait for it and a quarter of MaxBatch
/// starts another; what is admitted before the queued drain runs goes out together; and no more calls run than allowed.
/// </summary>
[Collection(Name)]
public sealed class SkuLaneTests
{
    /// <summary>Alone: the burst test is about the pool, which other tests would keep busy.</summary>
    public const string Name = "SkuLane";

    private const int MaxBatch = 64;

    private const int MaxInFlight = 2;

    [Fact]
    public async Task AnIdleLaneDecidesACallerOutsideThePoolOnItsOwnThread()
    {
        var calls = new Calls();
        var lane = calls.Lane();
        var (caller, decidedOn, decided) = await OnOwnThread(() =>
        {
            var decision = lane.DecideAsync(Request(1));
            return (Environment.CurrentManagedThreadId, calls.Threads.Single(), decision);
        });
        Assert.Equal(caller, decidedOn);
        Assert.Equal(1, (await decided).Reply.OrderNo);
        Assert.Equal([1], calls.Sizes);
    }

    [Fact]
    public async Task BehindACallInFlightAFewWaitForItAndAQuarterOfMaxBatchStartsAnother()
    {
        var calls = new Calls { Held = true };
        var lane = calls.Lane();
        var quarter = MaxBatch / 4;
        var decisions = await OnOwnThread(() =>
        {
            List<Task<Decision>> made = [lane.DecideAsync(Request(0))];
            // One call in flight: fewer than a quarter of MaxBatch wait for it.
            made.AddRange(Enumerable.Range(1, quarter - 1).Select(i => lane.DecideAsync(Request(i))));
            Assert.Equal([1], calls.Sizes);
            // The quarter's last request starts the second call; with both slots taken, the rest wait.
            made.Add(lane.DecideAsync(Request(quarter)));
            made.AddRange(Enumerable.Range(quarter + 1, 20).Select(i => lane.DecideAsync(Request(i))));
            Assert.Equal([1, quarter], calls.Sizes);
            return made;
        });
        // The first call ends: everything that waited goes out in one call.
        calls.Release(0);
        await calls.WaitForAsync(3);
        Assert.Equal([1, quarter, 20], calls.Sizes);
        calls.ReleaseAll();
        var replies = await Task.WhenAll(decisions);
        Assert.Equal(Enumerable.Range(0, quarter + 21).Select(i => (long)i), replies.Select(d => d.Reply.OrderNo));
        Assert.Equal(MaxInFlight, calls.MostInFlight);
    }

    [Fact]
    public async Task EverythingAdmittedBeforeTheQueuedDrainRunsGoesOutTogetherInCallsOfMaxBatch()
    {
        var calls = new Calls();
        var deferred = new List<IThreadPoolWorkItem>();
        var lane = calls.Lane(drain =>
        {
            deferred.Add(drain);
            return true;
        });
        var decisions = Enumerable.Range(0, MaxBatch + 10).Select(i => lane.DecideAsync(Request(i))).ToList();
        // One drain queued for the whole burst, and nothing decided before it runs.
        Assert.Single(deferred);
        Assert.Empty(calls.Sizes);
        deferred[0].Execute();
        Assert.Equal([MaxBatch, 10], calls.Sizes);
        var replies = await Task.WhenAll(decisions);
        Assert.Equal(Enumerable.Range(0, MaxBatch + 10).Select(i => (long)i), replies.Select(d => d.Reply.OrderNo));
        // The first call's end queued a drain for what was left; the first drain had taken it already.
        foreach (var drain in deferred.Skip(1).ToList())
        {
            drain.Execute();
        }
        Assert.Equal([MaxBatch, 10], calls.Sizes);
    }

    /// <summary>
    /// On the real pool: the drain is queued while the pool thread that found the lane idle is still admitting, so the
    /// burst it admits can go out whole. An idle worker may take the drain sooner and cut the burst (never deciding it
    /// wrongly), more often the more cores are idle, so the claim is one whole burst of 50: the lane before this one cut
    /// every burst (1, 1, 62), and a lane that drained on the admitting thread would cut every burst too. Here 50 of 50
    /// went out whole, with the drain on the pool's global queue and on the admitting thread's local one alike.
    /// </summary>
    [Fact]
    public async Task ABurstAdmittedByOnePoolThreadCanGoOutAsOneCall()
    {
        const int bursts = 50;
        var whole = 0;
        for (var burst = 0; burst < bursts; burst++)
        {
            var calls = new Calls();
            var lane = calls.Lane();
            var replies = await Task.Run(() => Task.WhenAll(Enumerable.Range(0, MaxBatch).Select(i => lane.DecideAsync(Request(i))).ToList()));
            Assert.Equal(Enumerable.Range(0, MaxBatch).Select(i => (long)i), replies.Select(d => d.Reply.OrderNo));
            Assert.Equal(MaxBatch, calls.Sizes.Sum());
            whole += calls.Sizes is [MaxBatch] ? 1 : 0;
        }
        Assert.True(whole >= 1, $"none of {bursts} bursts of {MaxBatch} went out as one call");
    }

    private static BatchRequest Request(long orderNo) => new(UserId: orderNo + 1, IdempotencyKey: "k", Quantity: 1, OrderNo: orderNo);

    private static Task<T> OnOwnThread<T>(Func<T> body)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                done.SetResult(body());
            }
            catch (Exception ex)
            {
                done.SetException(ex);
            }
        });
        thread.Start();
        return done.Task;
    }

    /// <summary>The decision: records each call, and answers every ticket with its own order number once released.</summary>
    private sealed class Calls
    {
        private readonly ConcurrentQueue<(int Size, int Thread, TaskCompletionSource Gate)> _calls = new();
        private int _inFlight;
        private int _mostInFlight;

        /// <summary>When set, a call does not end until the test releases it.</summary>
        public bool Held { get; init; }

        public int[] Sizes => [.. _calls.Select(c => c.Size)];

        public int[] Threads => [.. _calls.Select(c => c.Thread)];

        public int MostInFlight => Volatile.Read(ref _mostInFlight);

        public SkuLane Lane() => new(MaxBatch, MaxInFlight, DecideAsync);

        public SkuLane Lane(Func<IThreadPoolWorkItem, bool> defer) => new(MaxBatch, MaxInFlight, DecideAsync, defer);

        public void Release(int call) => _calls.ElementAt(call).Gate.TrySetResult();

        public void ReleaseAll()
        {
            foreach (var call in _calls)
            {
                call.Gate.TrySetResult();
            }
        }

        public async Task WaitForAsync(int count)
        {
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (_calls.Count < count)
            {
                Assert.True(DateTime.UtcNow < deadline, $"{_calls.Count} calls, not {count}, after 10 s");
                await Task.Delay(5);
            }
        }

        private async Task DecideAsync(Ticket[] batch)
        {
            var inFlight = Interlocked.Increment(ref _inFlight);
            InterlockedMax(ref _mostInFlight, inFlight);
            Assert.True(inFlight <= MaxInFlight, $"{inFlight} calls in flight");
            var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _calls.Enqueue((batch.Length, Environment.CurrentManagedThreadId, gate));
            if (!Held)
            {
                gate.SetResult();
            }
            await gate.Task;
            Interlocked.Decrement(ref _inFlight);
            foreach (var ticket in batch)
            {
                ticket.TrySetResult(new(new ReserveReply(ScriptCode.Done, ticket.Request.OrderNo), null));
            }
        }

        private static void InterlockedMax(ref int target, int value)
        {
            var current = Volatile.Read(ref target);
            while (value > current && Interlocked.CompareExchange(ref target, value, current) is var seen && seen != current)
            {
                current = seen;
            }
        }
    }
}

[CollectionDefinition(SkuLaneTests.Name, DisableParallelization = true)]
public sealed class SkuLaneCollection;
