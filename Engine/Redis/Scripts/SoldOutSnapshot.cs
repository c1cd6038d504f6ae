using StackExchange.Redis;

namespace FlashSale.Engine.Redis;

/// <param name="OwnedKeys">The idempotency fields ("userId:key") that own an order; only read when <see cref="Available"/> is 0.</param>
public sealed record SoldOutSnapshot(long Available, string Generation, IReadOnlyList<string> OwnedKeys);

public sealed partial class SkuScripts
{
    private static readonly RedisScript SoldOut = RedisScript.Load("soldout-snapshot.lua");

    /// <summary>The stock, its generation and the keys that own orders, at one instant; null when the SKU is not warmed up.</summary>
    public async Task<SoldOutSnapshot?> SoldOutSnapshotAsync(IDatabaseAsync db, SkuKeys sku)
    {
        var reply = (RedisResult[])(await SoldOut.EvaluateAsync(db, metrics, [sku.Meta, sku.Idempotency]))!;
        return Code(reply) switch
        {
            ScriptCode.Done => new SoldOutSnapshot((long)reply[1], (string)reply[2]!, [.. reply.Skip(3).Select(r => (string)r!)]),
            ScriptCode.NotWarmed => null,
            var code => throw Unexpected(SoldOut, code),
        };
    }
}
