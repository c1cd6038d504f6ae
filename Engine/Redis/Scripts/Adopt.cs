using StackExchange.Redis;

namespace FlashSale.Engine.Redis;

public enum AdoptOutcome
{
    Adopted,
    AlreadyKnown,
    NotWarmed,
}

/// <param name="Oversold">Units of the adopted order that Redis had already sold to somebody else.</param>
public readonly record struct AdoptReply(AdoptOutcome Outcome, int Oversold);

public sealed partial class SkuScripts
{
    private static readonly RedisScript Adopt = RedisScript.Load("adopt.lua");

    /// <summary>Puts an order MySQL holds back into the SKU's ledger and takes its units out of the stock.</summary>
    public async Task<AdoptReply> AdoptAsync(IDatabaseAsync db, SkuKeys sku, long orderNo, LedgerRecord record, string idempotencyKey)
    {
        var reply = (RedisResult[])(await Adopt.EvaluateAsync(db, metrics, [sku.Meta, sku.Users, sku.Ledger, sku.Idempotency],
        [
            orderNo, record.UserId, record.Quantity, record.AmountMinor, record.CreatedMs, record.DeadlineMs,
            record.State.ToString(), idempotencyKey,
        ]))!;
        return Code(reply) switch
        {
            ScriptCode.Done => new(AdoptOutcome.Adopted, (int)reply[1]),
            ScriptCode.AlreadyDone => new(AdoptOutcome.AlreadyKnown, 0),
            ScriptCode.NotWarmed => new(AdoptOutcome.NotWarmed, 0),
            var code => throw Unexpected(Adopt, code),
        };
    }
}
