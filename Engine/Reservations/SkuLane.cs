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
/// The group commit of one SKU's reservations: concurrent requests queue, and one loop drains what is waiting (up to
/// <c>maxBatch</c>) into one decision call. No timer: a batch forms while the calls before it are in flight (at most
/// <c>maxInFlight</c> at once), so an idle SKU adds no latency and a hot one makes its batches as large as the wait
/// for Redis allows. The queue is unbounded: what may enter is admission control's concern, ahead of it.
/// </summary>
internal sealed class SkuLane
{
    // Synchronous continuations: the request that finds the lane idle runs the drain loop on its own thread up to the
    // script call's first await, so a lone request pays no thread hop for the queue (an idle engine adds no latency).
    private readonly Channel<Ticket> _queue = Channel.CreateUnbounded<Ticket>(
        new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = true });

    // One token per call that may be in flight: a call takes one and gives it back when it ends.
    private readonly Channel<byte> _slots;

    private readonly int _maxBatch;

    private readonly Func<Ticket[], Task> _decide;

    public SkuLane(int maxBatch, int maxInFlight, Func<Ticket[], Task> decide)
    {
        _maxBatch = maxBatch;
        _slots = Channel.CreateBounded<byte>(new BoundedChannelOptions(maxInFlight) { AllowSynchronousContinuations = true });
        for (var i = 0; i < maxInFlight; i++)
        {
            _slots.Writer.TryWrite(0);
        }
        _decide = decide;
        _ = Task.Run(DrainAsync);
    }

    public Task<Decision> DecideAsync(BatchRequest request)
    {
        var ticket = new Ticket(request);
        _queue.Writer.TryWrite(ticket);
        return ticket.Task;
    }

    private async Task DrainAsync()
    {
        while (await _queue.Reader.WaitToReadAsync())
        {
            await _slots.Reader.ReadAsync();
            var batch = new List<Ticket>(Math.Min(_maxBatch, 64));
            while (batch.Count < _maxBatch && _queue.Reader.TryRead(out var ticket))
            {
                batch.Add(ticket);
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
            _slots.Writer.TryWrite(0);
        }
    }
}
