using System.Globalization;
using StackExchange.Redis;

namespace FlashSale.Engine.Redis;

/// <summary>
/// One SKU's Redis side at one instant (the server's clock <see cref="At"/>): stock, the whole ledger, the
/// order numbers still in the outbox, and when the reconciler last re-published an order's event.
/// <see cref="Warmed"/> false: Redis does not hold the SKU, and only <see cref="At"/> is set.
/// </summary>
public sealed record LedgerSnapshot(
    DateTimeOffset At,
    bool Warmed,
    long Total,
    long Available,
    IReadOnlyDictionary<long, LedgerRecord> Ledger,
    IReadOnlySet<long> InOutbox,
    IReadOnlyDictionary<long, long> RepublishedAtMs);

public sealed partial class SkuScripts
{
    private static readonly RedisScript Snapshot = RedisScript.Load("ledger-snapshot.lua");

    /// <exception cref="FormatException">A ledger entry was not written by the engine's scripts.</exception>
    public async Task<LedgerSnapshot> LedgerSnapshotAsync(IDatabaseAsync db, SkuKeys sku)
    {
        var reply = (RedisResult[])(await Snapshot.EvaluateAsync(db, metrics, [sku.Meta, sku.Ledger, sku.Outbox, sku.Republished]))!;
        var at = DateTimeOffset.FromUnixTimeMilliseconds((long)reply[1]);
        switch (Code(reply))
        {
            case ScriptCode.NotWarmed:
                return new LedgerSnapshot(at, false, 0, 0, new Dictionary<long, LedgerRecord>(), new HashSet<long>(), new Dictionary<long, long>());
            case ScriptCode.Done:
                var flat = (RedisResult[])reply[4]!;
                var ledger = new Dictionary<long, LedgerRecord>(flat.Length / 2);
                for (var i = 0; i < flat.Length; i += 2)
                {
                    ledger[ParseOrderNo(flat[i])] = LedgerRecord.Parse(flat[i + 1].ToString());
                }
                var outbox = ((RedisResult[])reply[5]!).Select(ParseOrderNo).ToHashSet();
                var republished = (RedisResult[])reply[6]!;
                var republishedAt = new Dictionary<long, long>(republished.Length / 2);
                for (var i = 0; i < republished.Length; i += 2)
                {
                    republishedAt[ParseOrderNo(republished[i])] = (long)republished[i + 1];
                }
                return new LedgerSnapshot(at, true, (long)reply[2], (long)reply[3], ledger, outbox, republishedAt);
            case var code:
                throw Unexpected(Snapshot, code);
        }
    }

    private static long ParseOrderNo(RedisResult value)
        => long.TryParse(value.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var orderNo)
            ? orderNo
            : throw new FormatException($"'{value}' is not an order number.");
}
