using StackExchange.Redis;

namespace FlashSale.Engine.Redis;

/// <summary>An outbox entry whose event Kafka confirmed: its stream id and its order number.</summary>
public readonly record struct SettledEntry(RedisValue Id, long OrderNo);

public sealed partial class SkuScripts
{
    private static readonly RedisScript Settle = RedisScript.Load("settle.lua");

    /// <summary>
    /// Removes durable events from the SKU's outbox (XACK on <paramref name="group"/>, XDEL) and their orders'
    /// pending marks, in one script; returns how many entries were still there. Idempotent: the Ingress and
    /// the relay may both settle the same entry.
    /// </summary>
    public async Task<int> SettleAsync(IDatabaseAsync db, SkuKeys sku, string group, IReadOnlyCollection<SettledEntry> entries)
    {
        var values = new RedisValue[1 + entries.Count * 2];
        values[0] = group;
        var i = 1;
        foreach (var entry in entries)
        {
            values[i++] = entry.Id;
            values[i++] = entry.OrderNo;
        }
        var reply = (RedisResult[])(await Settle.EvaluateAsync(db, metrics, [sku.Outbox, sku.Pending], values))!;
        return Code(reply) switch
        {
            ScriptCode.Done => (int)reply[1],
            ScriptCode.AlreadyDone => 0,
            var code => throw Unexpected(Settle, code),
        };
    }
}
