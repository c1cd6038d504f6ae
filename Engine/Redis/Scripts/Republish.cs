using StackExchange.Redis;

namespace FlashSale.Engine.Redis;

public sealed partial class SkuScripts
{
    private static readonly RedisScript Republish = RedisScript.Load("republish.lua");

    /// <summary>Puts a reservation's event back on the outbox from its ledger entry; false when the ledger no longer holds it.</summary>
    public async Task<bool> RepublishAsync(IDatabaseAsync db, SkuKeys sku, long orderNo, string idempotencyKey)
    {
        var code = Code(await Republish.EvaluateAsync(db, metrics, [sku.Ledger, sku.Outbox, sku.Republished, sku.Pending, CouponKeyspace.CouponsOf(sku), sku.Meta],
            [orderNo, sku.CampaignId, sku.SkuId, idempotencyKey]));
        return code switch
        {
            ScriptCode.Done => true,
            ScriptCode.UnknownOrder or ScriptCode.OrderReleased => false,
            _ => throw Unexpected(Republish, code),
        };
    }
}
