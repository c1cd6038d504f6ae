using System.Diagnostics;
using FlashSale.LoadTests.Scenarios;

namespace FlashSale.LoadTests.Load;

/// <summary>
/// Follow-up actions waiting for their due time (a Stopwatch timestamp), earliest first. Scenarios add
/// to it from <see cref="IScenario.Observe(ReserveRequest, EngineApi.ReserveResult, ILoadContext)"/>
/// on many threads; the load model takes what is due. <see cref="Changed"/> wakes a model that sleeps
/// towards a later time when something earlier arrives.
/// </summary>
public sealed class FollowUpQueue : IDisposable
{
    private readonly PriorityQueue<FollowUpAction, long> _queue = new();
    private readonly Lock _lock = new();
    private readonly AutoResetEvent _changed = new(false);
    private long _scheduled;
    private long _abandoned;

    public WaitHandle Changed => _changed;

    public long Scheduled => Interlocked.Read(ref _scheduled);

    /// <summary>Still queued when the model gave up waiting (see <see cref="Abandon"/>).</summary>
    public long Abandoned => Interlocked.Read(ref _abandoned);

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _queue.Count;
            }
        }
    }

    public void Schedule(FollowUpAction action, long dueTimestamp)
    {
        lock (_lock)
        {
            _queue.Enqueue(action, dueTimestamp);
        }
        Interlocked.Increment(ref _scheduled);
        _changed.Set();
    }

    /// <summary>The earliest due time, or null when nothing is queued.</summary>
    public long? NextDue()
    {
        lock (_lock)
        {
            return _queue.TryPeek(out _, out var due) ? due : null;
        }
    }

    /// <summary>Takes the earliest action if it is due at <paramref name="now"/>.</summary>
    public bool TryTakeDue(long now, out FollowUpAction action, out long due)
    {
        lock (_lock)
        {
            if (_queue.TryPeek(out var next, out due) && due <= now)
            {
                _queue.Dequeue();
                action = next;
                return true;
            }
        }
        action = null!;
        due = 0;
        return false;
    }

    /// <summary>Drops whatever is still queued (the run was stopped, or the follow-ups ran past their time); returns how many.</summary>
    public int Abandon()
    {
        int count;
        lock (_lock)
        {
            count = _queue.Count;
            _queue.Clear();
        }
        Interlocked.Add(ref _abandoned, count);
        return count;
    }

    /// <summary>Waits until something is added or <paramref name="timeout"/> passes.</summary>
    public void WaitForChange(TimeSpan timeout) => _changed.WaitOne(timeout);

    public static long DueIn(TimeSpan delay) => Stopwatch.GetTimestamp() + (long)(delay.TotalSeconds * Stopwatch.Frequency);

    public void Dispose() => _changed.Dispose();
}
