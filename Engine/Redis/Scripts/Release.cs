using StackExchange.Redis;

namespace FlashSale.Engine.Redis;

public enum ReleaseOutcome
{
    /// <summary>The units went back to the sale now.</summary>
    Released,

    /// <summary>An earlier call gave them back already.</summary>
    AlreadyReleased,

    /// <summary>The ledger does not know the order (Redis came back from an older state): nothing to give back.</summary>
    UnknownOrder,

    /// <summary>The ledger says paid: the units are never released.</summary>
    Paid,
}

public sealed partial class SkuScripts
{
    private static readonly RedisScript Release = RedisScript.Load("release.lua");

    public async Task<ReleaseOutcome> ReleaseAsync(IDatabaseAsync db, SkuKeys sku, long orderNo)
    {
        var code = Code(await Release.EvaluateAsync(db, metrics, [sku.Meta, sku.Users, sku.Ledger], [orderNo, sku.SkuMember]));
        return code switch
        {
            ScriptCode.Done => ReleaseOutcome.Released,
            ScriptCode.AlreadyDone => ReleaseOutcome.AlreadyReleased,
            ScriptCode.UnknownOrder => ReleaseOutcome.UnknownOrder,
            ScriptCode.OrderPaid => ReleaseOutcome.Paid,
            _ => throw Unexpected(Release, code),
        };
    }
}
