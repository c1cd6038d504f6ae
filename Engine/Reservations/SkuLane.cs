using System.Threading.Channels;
using FlashSale.Engine.Redis;
using FlashSale.Engine.Relay;

namespace FlashSale.Engine.Reservations;

/// <summary>A request's decision, and the delivery of its batch's record when the Ingress produces it (durable acknowledgement).</summary>
public readonly record struct Decision(ReserveReply Reply, DurableDelivery? Delivery);

/// <summary>One buyer's request waiting in a <see cref="SkuLane"/> for its batch.</summary>
internal sealed class Ticket(BatchRequest request) : TaskCompletionSource<Decision>(TaskCreationOptions.RunContinuationsAsynchronously)
{
    public BatchRequest Request { get; } = request;
}

/// <summary>
/// The group commit of one SKU's reservations: concurrent requests queue, and a drain takes what is waiting (up to
/// <c>maxBatch</c>) into one decision call. No timer: a batch forms while the calls before it are in flight, so a hot
/// SKU makes its batches as large as the wait for Redis allows. An idle SKU's request goes out at once; behind a call in
/// flight, another starts (up to <c>maxInFlight</c>) only once a quarter of <c>maxBatch</c> is waiting, and fewer wait
/// for that call to end, so a steady stream is not cut into calls of one. The drain is a
/// work item on the thread pool's global queue, behind the work already there: the socket reads Kestrel queued (each
/// a request that may be for this SKU), and, since a pool thread empties its own queue first, the buyers a call's end
/// answered on that thread. So everything admitted by the time the pool gets to it is decided together, and an idle
/// SKU, with nothing queued ahead, adds no latency. The queue is unbounded: what may enter is admission control's
/// concern, ahead of it.
/// </summary>
internal sealed class SkuLane : IThreadPoolWorkItem
{
    // Unbounded, several readers: a drain and the next one (queued when a call ends) may overlap.
    private readonly Channel<Ticket> _queue = Channel.CreateUnbounded<Ticket>(new UnboundedChannelOptions { SingleReader = false });

    private readonly int _maxBatch;

    private readonly int _maxInFlight;

    // The requests that must be waiting before a call starts while another is in flight.
    private readonly int _overlapBatch;

    private readonly Func<Ticket[], Task> _decide;

    // Queues a drain to run later, or answers false to have it run now.
    private readonly Func<IThreadPoolWorkItem, bool> _defer;

    // Calls in flight; a drain takes a slot before it takes tickets, and a call gives it back when it ends.
    private int _inFlight;

    // 1 while a drain is queued to the thread pool and has not started.
    private int _scheduled;

    public SkuLane(int maxBatch, int maxInFlight, Func<Ticket[], Task> decide)
        : this(maxBatch, maxInFlight, decide, DeferBehindQueuedWork)
    {
    }

    /// <param name="defer">
    /// Where a drain goes once a request finds a slot free: queued to run later (true), or run at once on the caller's
    /// thread (false). Tests pass their own to run the drain when they choose.
    /// </param>
    internal SkuLane(int maxBatch, int maxInFlight, Func<Ticket[], Task> decide, Func<IThreadPoolWorkItem, bool> defer)
    {
        _maxBatch = maxBatch;
        _maxInFlight = maxInFlight;
        _overlapBatch = Math.Max(1, maxBatch / 4);
        _decide = decide;
        _defer = defer;
    }

    public Task<Decision> DecideAsync(BatchRequest request)
    {
        var ticket = new Ticket(request);
        _queue.Writer.TryWrite(ticket);
        Schedule();
        return ticket.Task;
    }

    // Both sides store, then read the other's field, each store an interlocked operation (the unbounded channel's write
    // is a ConcurrentQueue's enqueue): a ticket queued while every slot was taken is seen by the call that gives its slot
    // back, or its own Schedule sees the free slot.
    private void Schedule()
    {
        if (Volatile.Read(ref _inFlight) >= _maxInFlight || Interlocked.Exchange(ref _scheduled, 1) != 0)
        {
            return;
        }
        if (!_defer(this))
        {
            Drain();
        }
    }

    // The global queue, not the admitting thread's local one: a pool thread takes its local queue last in, first out,
    // so a drain queued there ran right after the request that queued it, before the requests queued beside it (on the
    // HTTP created path, calls of 17 on average where the global queue gives 21, and more CPU per reservation).
    private static bool DeferBehindQueuedWork(IThreadPoolWorkItem drain)
    {
        // A caller outside the pool (a console, a test) would wait for a worker to wake: its request is decided on its
        // own thread, as far as the call's first await.
        if (!Thread.CurrentThread.IsThreadPoolThread)
        {
            return false;
        }
        ThreadPool.UnsafeQueueUserWorkItem(drain, preferLocal: false);
        return true;
    }

    void IThreadPoolWorkItem.Execute() => Drain();

    private void Drain()
    {
        // Interlocked, not a volatile write: the queue must be read after the flag is visible as clear. A request whose
        // Schedule still saw the flag set relies on this drain to see its ticket; with a plain store the read below could
        // come first, miss the ticket, and leave it waiting until the next request or call.
        Interlocked.Exchange(ref _scheduled, 0);
        while (_queue.Reader.Count > 0)
        {
            var inFlight = Volatile.Read(ref _inFlight);
            // A few requests behind a call in flight wait for it to end and go out with the others that gather by
            // then: a call of its own for each would cost Redis, the relay and the Persister as much as a full batch.
            if (inFlight >= _maxInFlight || (inFlight > 0 && _queue.Reader.Count < _overlapBatch))
            {
                return;
            }
            if (Interlocked.CompareExchange(ref _inFlight, inFlight + 1, inFlight) != inFlight)
            {
                continue;
            }
            var batch = new List<Ticket>(Math.Min(_maxBatch, 64));
            while (batch.Count < _maxBatch && _queue.Reader.TryRead(out var ticket))
            {
                batch.Add(ticket);
            }
            if (batch.Count == 0)
            {
                Interlocked.Decrement(ref _inFlight);
                continue;
            }
            _ = RunAsync([.. batch]);
        }
    }

    private async Task RunAsync(Ticket[] batch)
    {
        try
        {
            await _decide(batch);
        }
        catch (Exception ex)
        {
            // The decision's own failures reach every ticket there; this is the last line, so no request waits for ever.
            foreach (var ticket in batch)
            {
                ticket.TrySetException(ex);
            }
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
            if (_queue.Reader.Count > 0)
            {
                Schedule();
            }
        }
    }
}
