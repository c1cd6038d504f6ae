using System.Globalization;
using StackExchange.Redis;

namespace FlashSale.Engine.Redis;

public sealed partial class SkuScripts
{
    /// <summary>Entries per HSCAN call of the counting walk: well under a millisecond of Redis time each (see Reconciler:WalkPageSize).</summary>
    private const int CountPageSize = 250;

    /// <summary>How often a script that needs exact counts walks the ledger again when it moved during a walk.</summary>
    private const int CountAttempts = 3;

    private static readonly RedisScript Count = RedisScript.Load("count.lua");

    /// <summary>
    /// Gives a SKU whose ledger was written before the running counts existed its exact counts: walks the ledger
    /// page by page (HSCAN, each call bounded) and sets the sums with count.lua, which takes them only if no entry
    /// changed state during the walk. True when the SKU has exact counts now; false when the ledger moved (a sale
    /// running on it): nothing was written, and the counts stay unknown, never guessed.
    /// </summary>
    /// <exception cref="FormatException">A ledger entry was not written by the engine's scripts.</exception>
    public async Task<bool> CountLedgerAsync(IDatabaseAsync db, SkuKeys sku)
    {
        var before = await db.HashGetAsync(sku.Meta, [MetaFields.Sequence, MetaFields.Sold, MetaFields.Counted]);
        if (!before[2].IsNull)
        {
            return true;
        }
        long reserved = 0, sold = 0;
        // HSCAN may return an entry twice (while the hash is rehashed); each order counts once.
        var seen = new HashSet<long>();
        await foreach (var entry in LedgerLayout.ScanAsync(db, sku, CountPageSize))
        {
            if (!seen.Add(ParseOrderNo(entry.Name)))
            {
                continue;
            }
            var record = LedgerRecord.Parse(entry.Value.ToString());
            if (record.State == LedgerRecord.Reserved)
            {
                reserved += record.Quantity;
            }
            else if (record.State == LedgerRecord.Paid)
            {
                sold += record.Quantity;
            }
        }
        var code = Code(await Count.EvaluateAsync(db, metrics, [sku.Meta],
            [reserved, sold, before[0].IsNull ? "" : before[0], before[1].IsNull ? "" : before[1]]));
        return code switch
        {
            ScriptCode.Done or ScriptCode.AlreadyDone => true,
            ScriptCode.NotCounted => false,
            _ => throw Unexpected(Count, code),
        };
    }

    /// <summary>
    /// Runs <paramref name="call"/>, a script that needs the SKU's exact counts; when it answers NOT_COUNTED, counts
    /// the ledger and calls again, a few times. Null when the counts could not be taken (the ledger kept moving).
    /// </summary>
    private async Task<RedisResult[]?> WithCountsAsync(IDatabaseAsync db, SkuKeys sku, Func<Task<RedisResult[]>> call)
    {
        for (var attempt = 0; ; attempt++)
        {
            var reply = await call();
            if (Code(reply) != ScriptCode.NotCounted)
            {
                return reply;
            }
            if (attempt == CountAttempts)
            {
                return null;
            }
            await CountLedgerAsync(db, sku);
        }
    }

    internal static long ParseOrderNo(RedisValue value)
        => long.TryParse(value.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var orderNo)
            ? orderNo
            : throw new FormatException($"'{value}' is not an order number.");
}
