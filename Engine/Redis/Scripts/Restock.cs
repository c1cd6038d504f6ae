using StackExchange.Redis;

namespace FlashSale.Engine.Redis;

/// <summary>restock.lua's answer: the stock before and after; null when the SKU is not warmed up or its counts are not exact.</summary>
public readonly record struct RestockReply(long Before, long After);

public sealed partial class SkuScripts
{
    private static readonly RedisScript Restock = RedisScript.Load("restock.lua");

    /// <summary>Sets the stock to total minus the units the ledger holds, raising it no higher than <paramref name="ceiling"/>.</summary>
    public async Task<RestockReply?> RestockAsync(IDatabaseAsync db, SkuKeys sku, long ceiling)
    {
        var reply = await WithCountsAsync(db, sku,
            async () => (RedisResult[])(await Restock.EvaluateAsync(db, metrics, [sku.Meta], [ceiling, sku.SkuMember]))!);
        return reply is null ? null : Code(reply) switch
        {
            ScriptCode.Done => new RestockReply((long)reply[1], (long)reply[2]),
            ScriptCode.NotWarmed => null,
            var code => throw Unexpected(Restock, code),
        };
    }
}
