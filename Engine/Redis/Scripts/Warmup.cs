using StackExchange.Redis;

namespace FlashSale.Engine.Redis;

/// <summary>
/// What warm-up writes for one SKU. <paramref name="AdmitFactorMilli"/> &gt; 0 puts it behind a waiting room (the campaign's
/// admit factor in thousandths, tokens valid <paramref name="AdmissionTokenSeconds"/>); 0 leaves it open.
/// </summary>
public readonly record struct SkuLoad(
    int Total, long StartsMs, long EndsMs, int PerUserLimit, long PriceMinor, int PaymentWindowSeconds,
    int AdmitFactorMilli = 0, int AdmissionTokenSeconds = 0);

/// <param name="Loaded">False: the SKU was live already and nothing was written.</param>
public readonly record struct WarmupReply(bool Loaded, int Available);

public sealed partial class SkuScripts
{
    private static readonly RedisScript Warmup = RedisScript.Load("warmup.lua");

    /// <summary>
    /// Loads the SKU; with <paramref name="force"/> also when it is live, at total minus the units its ledger holds (its
    /// running counts: a SKU whose ledger predates them is counted first, page by page).
    /// </summary>
    public async Task<WarmupReply> WarmupAsync(IDatabaseAsync db, SkuKeys sku, SkuLoad load, bool force)
    {
        var reply = await WithCountsAsync(db, sku, async () => (RedisResult[])(await Warmup.EvaluateAsync(db, metrics, [sku.Meta, sku.Ledger],
        [
            load.Total, load.StartsMs, load.EndsMs, load.PerUserLimit, load.PriceMinor, load.PaymentWindowSeconds,
            force ? "1" : "0", sku.SkuMember, load.AdmitFactorMilli, load.AdmissionTokenSeconds,
        ]))!)
            ?? throw new ScriptException($"The ledger of {sku.Member} kept changing while its units were counted; load it again once it is quiet.");
        return Code(reply) switch
        {
            ScriptCode.Done => new(true, (int)reply[1]),
            ScriptCode.AlreadyDone => new(false, (int)reply[1]),
            var code => throw Unexpected(Warmup, code),
        };
    }
}
