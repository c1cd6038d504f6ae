using StackExchange.Redis;

namespace FlashSale.Engine.Redis;

/// <summary>
/// One SKU's Redis side in constant time, at one instant (the server's clock <see cref="At"/>): stock, the running
/// counts of the units its ledger holds (<see cref="Counted"/> false: not exact, see <see cref="MetaFields.Counted"/>),
/// its decision sequence and the length of its outbox. <see cref="Warmed"/> false: Redis does not hold the SKU, and
/// only <see cref="At"/> is set.
/// </summary>
public sealed record SkuCounters(
    DateTimeOffset At,
    bool Warmed,
    long Total,
    long Available,
    long Reserved,
    long Sold,
    bool Counted,
    long Sequence,
    long OutboxLength)
{
    public static SkuCounters NotWarmed(DateTimeOffset at) => new(at, false, 0, 0, 0, 0, false, 0, 0);
}

public sealed partial class SkuScripts
{
    private static readonly RedisScript Counters = RedisScript.Load("sku-counters.lua");

    /// <summary>Reads the SKU's stock and counts (sku-counters.lua): a few fields, never the ledger.</summary>
    public async Task<SkuCounters> SkuCountersAsync(IDatabaseAsync db, SkuKeys sku)
    {
        var reply = (RedisResult[])(await Counters.EvaluateAsync(db, metrics, [sku.Meta, sku.Outbox]))!;
        var at = DateTimeOffset.FromUnixTimeMilliseconds((long)reply[1]);
        return Code(reply) switch
        {
            ScriptCode.NotWarmed => SkuCounters.NotWarmed(at),
            ScriptCode.Done => new SkuCounters(at, true, (long)reply[2], (long)reply[3], (long)reply[4], (long)reply[5],
                (long)reply[6] == 1, (long)reply[7], (long)reply[8]),
            var code => throw Unexpected(Counters, code),
        };
    }
}
