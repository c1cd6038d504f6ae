using StackExchange.Redis;

namespace FlashSale.Engine.Redis;

public enum MarkPaidOutcome
{
    Marked,
    AlreadyPaid,
    UnknownOrder,

    /// <summary>The ledger says the order was cancelled: MySQL and Redis contradict each other.</summary>
    Released,
}

public sealed partial class SkuScripts
{
    private static readonly RedisScript MarkPaid = RedisScript.Load("mark-paid.lua");

    public async Task<MarkPaidOutcome> MarkPaidAsync(IDatabaseAsync db, SkuKeys sku, long orderNo)
    {
        var code = Code(await MarkPaid.EvaluateAsync(db, metrics, [sku.Meta, sku.Ledger], [orderNo]));
        return code switch
        {
            ScriptCode.Done => MarkPaidOutcome.Marked,
            ScriptCode.AlreadyDone => MarkPaidOutcome.AlreadyPaid,
            ScriptCode.UnknownOrder => MarkPaidOutcome.UnknownOrder,
            ScriptCode.OrderReleased => MarkPaidOutcome.Released,
            _ => throw Unexpected(MarkPaid, code),
        };
    }
}
