using StackExchange.Redis;

namespace FlashSale.Engine.Redis;

public enum RecoverOutcome
{
    Unfenced,
    NotFenced,
    NotWarmed,

    /// <summary>The SKU's running counts could not be made exact (its ledger kept moving): the fence stays up.</summary>
    NotCounted,
}

/// <summary>recover.lua's answer: the stock and the decision sequence the SKU has now.</summary>
public readonly record struct RecoverReply(RecoverOutcome Outcome, long Available, long Sequence);

public sealed partial class SkuScripts
{
    private static readonly RedisScript Recover = RedisScript.Load("recover.lua");

    /// <summary>
    /// Lifts the SKU's fence: stock = total − units the ledger holds (its running counts; counted first for a SKU loaded before them), sequence ≥ <paramref name="highWater"/>. Only once
    /// every order MySQL holds for the SKU has been adopted: the ledger is then the whole truth.
    /// </summary>
    public async Task<RecoverReply> RecoverAsync(IDatabaseAsync db, SkuKeys sku, long highWater)
    {
        var reply = await WithCountsAsync(db, sku,
            async () => (RedisResult[])(await Recover.EvaluateAsync(db, metrics, [sku.Meta], [highWater, sku.SkuMember]))!);
        if (reply is null)
        {
            return new RecoverReply(RecoverOutcome.NotCounted, 0, 0);
        }
        var outcome = Code(reply) switch
        {
            ScriptCode.Done => RecoverOutcome.Unfenced,
            ScriptCode.NotFenced => RecoverOutcome.NotFenced,
            ScriptCode.NotWarmed => RecoverOutcome.NotWarmed,
            var code => throw Unexpected(Recover, code),
        };
        return new RecoverReply(outcome, (long)reply[1], (long)reply[2]);
    }
}
