using StackExchange.Redis;

namespace FlashSale.Engine.Redis;

/// <summary>
/// The pub/sub channel on which scripts that give stock back (a forced reload, a release) say so,
/// with the SKU's <see cref="SkuKeys.Member"/>, so every Ingress drops a sold-out answer it kept in memory.
/// </summary>
public static class StockSignals
{
    public static readonly RedisChannel Channel = RedisChannel.Literal("fs:stock-returned");
}
