using FlashSale.Engine.Storage;

namespace FlashSale.Engine.Reservations;

/// <summary>
/// Hands out order numbers (<see cref="OrderNumbers"/>): 1,024 per millisecond per node; beyond that the
/// generator borrows the next millisecond instead of blocking.
/// </summary>
public sealed class OrderNumberGenerator
{
    private const int NodeBits = OrderNumbers.NodeBits;
    private const int SequenceBits = OrderNumbers.SequenceBits;
    private const long SequenceMask = (1L << SequenceBits) - 1;

    private readonly TimeProvider _time;
    private readonly long _node;

    // (milliseconds << SequenceBits) | sequence of the last number handed out.
    private long _last;

    public OrderNumberGenerator(int nodeId, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(nodeId);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(nodeId, OrderNumbers.MaxNode);
        _node = nodeId;
        _time = time;
    }

    public long Next(long userId)
    {
        var now = (_time.GetUtcNow().ToUnixTimeMilliseconds() - OrderNumbers.EpochMs) << SequenceBits;
        long last, next;
        do
        {
            last = Volatile.Read(ref _last);
            // A clock that steps back never repeats a number: we keep counting from the last one.
            next = Math.Max(last + 1, now);
        }
        while (Interlocked.CompareExchange(ref _last, next, last) != last);

        var milliseconds = next >> SequenceBits;
        var sequence = next & SequenceMask;
        return (milliseconds << (SequenceBits + NodeBits + OrderNumbers.ShardBits))
            | (sequence << (NodeBits + OrderNumbers.ShardBits))
            | (_node << OrderNumbers.ShardBits)
            | (long)(uint)OrderNumbers.LogicalShardOfUser(userId);
    }
}
