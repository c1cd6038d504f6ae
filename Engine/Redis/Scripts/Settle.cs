using StackExchange.Redis;

namespace FlashSale.Engine.Redis;

/// <summary>
/// Events Kafka confirmed: an outbox entry (its stream id) and the orders of it that are durable now. <see cref="Whole"/>
/// when the entry's own record was delivered (every order in it); otherwise only these orders were, each on its own.
/// </summary>
public readonly record struct SettledEntry(RedisValue Id, IReadOnlyList<long> OrderNos, bool Whole = true);

public sealed partial class SkuScripts
{
    private static readonly RedisScript Settle = RedisScript.Load("settle.lua");

    /// <summary>
    /// Removes durable events from the SKU's outbox (XACK on <paramref name="group"/>, XDEL) and their orders'
    /// pending marks, in one script; returns how many entries (for orders settled on their own: marks) were still there. Idempotent: the Ingress
    /// and the relay may both settle the same entry.
    /// </summary>
    public async Task<int> SettleAsync(IDatabaseAsync db, SkuKeys sku, string group, IReadOnlyCollection<SettledEntry> entries)
    {
        var values = new RedisValue[1 + entries.Sum(e => 3 + e.OrderNos.Count)];
        values[0] = group;
        var i = 1;
        foreach (var entry in entries)
        {
            values[i++] = entry.Id;
            values[i++] = entry.Whole ? 1 : 0;
            values[i++] = entry.OrderNos.Count;
            foreach (var orderNo in entry.OrderNos)
            {
                values[i++] = orderNo;
            }
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
