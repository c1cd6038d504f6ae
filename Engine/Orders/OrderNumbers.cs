namespace FlashSale.Engine.Orders;

/// <summary>
/// 64-bit order numbers: <c>[0][41 bits ms since 2025-01-01][10 bits sequence][6 bits node][6 bits shard]</c>.
/// Time-ordered (numeric order is creation order within a node), unique across up to 64 Ingress
/// nodes, and the low six bits are the buyer's logical MySQL shard, so any order can be routed
/// from its number alone. 1,024 numbers per millisecond per node; beyond that the generator
/// borrows the next millisecond instead of blocking.
/// </summary>
public sealed class OrderNumberGenerator
{
    public const int NodeBits = 6;
    public const int SequenceBits = 10;
    public const int MaxNode = (1 << NodeBits) - 1;

    private const long SequenceMask = (1L << SequenceBits) - 1;

    private readonly TimeProvider _time;
    private readonly long _node;

    // (milliseconds << SequenceBits) | sequence of the last number handed out.
    private long _last;

    public OrderNumberGenerator(int nodeId, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(nodeId);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(nodeId, MaxNode);
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

public static class OrderNumbers
{
    public const int ShardBits = 6;

    /// <summary>Logical shards, as in the original design (user_id % 64); physical databases map onto them.</summary>
    public const int LogicalShards = 1 << ShardBits;

    public static readonly long EpochMs = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    public static int LogicalShardOfUser(long userId) => (int)(userId % LogicalShards);

    public static int LogicalShardOf(long orderNo) => (int)(orderNo & (LogicalShards - 1));

    public static int NodeOf(long orderNo) => (int)((orderNo >> ShardBits) & OrderNumberGenerator.MaxNode);

    public static DateTimeOffset TimestampOf(long orderNo)
        => DateTimeOffset.FromUnixTimeMilliseconds(
            (orderNo >> (ShardBits + OrderNumberGenerator.NodeBits + OrderNumberGenerator.SequenceBits)) + EpochMs);
}
