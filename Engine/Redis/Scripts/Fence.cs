using StackExchange.Redis;

namespace FlashSale.Engine.Redis;

public enum FenceOutcome
{
    Fenced,
    AlreadyFenced,
    NotWarmed,
}

public sealed partial class SkuScripts
{
    private static readonly RedisScript Fence = RedisScript.Load("fence.lua");

    /// <summary>Fences the SKU: it decides nothing until <see cref="RecoverAsync"/> lifts the fence.</summary>
    public async Task<FenceOutcome> FenceAsync(IDatabaseAsync db, SkuKeys sku, string reason)
    {
        var reply = await Fence.EvaluateAsync(db, metrics, [sku.Meta], [reason]);
        return Code(reply) switch
        {
            ScriptCode.Done => FenceOutcome.Fenced,
            ScriptCode.AlreadyDone => FenceOutcome.AlreadyFenced,
            ScriptCode.NotWarmed => FenceOutcome.NotWarmed,
            var code => throw Unexpected(Fence, code),
        };
    }
}
