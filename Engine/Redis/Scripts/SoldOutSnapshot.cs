using StackExchange.Redis;

namespace FlashSale.Engine.Redis;

/// <param name="Buyers">The buyers who made an order (their replays must reach Redis); only read when <see cref="Available"/> is 0.</param>
public sealed record SoldOutSnapshot(long Available, string Generation, IReadOnlyList<long> Buyers);

public sealed partial class SkuScripts
{
    private static readonly RedisScript SoldOut = RedisScript.Load("soldout-snapshot.lua");

    /// <summary>The stock, its generation and the buyers who made orders, at one instant; null when the SKU is not warmed up.</summary>
    public async Task<SoldOutSnapshot?> SoldOutSnapshotAsync(IDatabaseAsync db, SkuKeys sku)
    {
        var reply = (RedisResult[])(await SoldOut.EvaluateAsync(db, metrics, [sku.Meta, sku.Users]))!;
        return Code(reply) switch
        {
            ScriptCode.Done => new SoldOutSnapshot((long)reply[1], (string)reply[2]!, [.. reply.Skip(3).Select(r => (long)r)]),
            ScriptCode.NotWarmed => null,
            var code => throw Unexpected(SoldOut, code),
        };
    }
}
