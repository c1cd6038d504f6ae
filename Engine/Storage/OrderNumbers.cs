namespace FlashSale.Engine.Storage;

/// <summary>
/// 64-bit order numbers: <c>[0][41 bits ms since 2025-01-01][10 bits sequence][6 bits node][6 bits shard]</c>.
/// Time-ordered (numeric order is creation order within a node), unique across up to 64 Ingress
/// nodes, and the low six bits are the buyer's logical MySQL shard, so any order can be routed
/// from its number alone.
/// </summary>
public static class OrderNumbers
{
    public const int NodeBits = 6;
    public const int SequenceBits = 10;
    public const int MaxNode = (1 << NodeBits) - 1;
    public const int ShardBits = 6;

    /// <summary>Logical shards, as in the original design (user_id % 64); physical databases map onto them.</summary>
    public const int LogicalShards = 1 << ShardBits;

    public static readonly long EpochMs = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    public static int LogicalShardOfUser(long userId) => (int)(userId % LogicalShards);

    public static int LogicalShardOf(long orderNo) => (int)(orderNo & (LogicalShards - 1));

    public static int NodeOf(long orderNo) => (int)((orderNo >> ShardBits) & MaxNode);

    public static DateTimeOffset TimestampOf(long orderNo)
        => DateTimeOffset.FromUnixTimeMilliseconds(
            (orderNo >> (ShardBits + NodeBits + SequenceBits)) + EpochMs);
}
