using System.Globalization;
using StackExchange.Redis;

namespace FlashSale.Engine.Redis;

/// <summary>
/// reserve.lua's answer: <see cref="ScriptCode.Done"/> (created), <see cref="ScriptCode.Replayed"/>,
/// <see cref="ScriptCode.KeyReused"/>, or a refusal (<see cref="ScriptCode.NotWarmed"/>, NotStarted, Ended,
/// PurchaseLimit, SoldOut). <see cref="Record"/> is set for Done and Replayed; <see cref="AvailableAfter"/>
/// and <see cref="Generation"/> (the stock generation) for Done and SoldOut.
/// </summary>
public readonly record struct ReserveReply(ScriptCode Code, long OrderNo = 0, LedgerRecord Record = default, long AvailableAfter = 0, string? Generation = null);

public sealed partial class SkuScripts
{
    private static readonly RedisScript Reserve = RedisScript.Load("reserve.lua");

    /// <summary>The script's keys in the order it reads them; callers may build them once per SKU.</summary>
    public static RedisKey[] ReserveKeys(SkuKeys sku) => [sku.Meta, sku.Idempotency, sku.Users, sku.Ledger, sku.Outbox];

    public async Task<ReserveReply> ReserveAsync(
        IDatabaseAsync db, RedisKey[] reserveKeys, SkuKeys sku, long userId, string idempotencyKey, int quantity, long orderNo)
    {
        var reply = (RedisResult[])(await Reserve.EvaluateAsync(db, metrics, reserveKeys,
            [userId, idempotencyKey, quantity, orderNo, sku.CampaignId, sku.SkuId]))!;
        return Code(reply) switch
        {
            ScriptCode.Done => new(ScriptCode.Done, OrderNo(reply[1]), LedgerRecord.Parse((string)reply[2]!), (long)reply[3], (string?)reply[4]),
            ScriptCode.Replayed => new(ScriptCode.Replayed, OrderNo(reply[1]), LedgerRecord.Parse((string)reply[2]!)),
            ScriptCode.KeyReused => new(ScriptCode.KeyReused, OrderNo(reply[1])),
            ScriptCode.SoldOut => new(ScriptCode.SoldOut, AvailableAfter: (long)reply[1], Generation: (string?)reply[2]),
            var code and (ScriptCode.NotWarmed or ScriptCode.NotStarted or ScriptCode.Ended or ScriptCode.PurchaseLimit) => new(code),
            var code => throw Unexpected(Reserve, code),
        };
    }

    private static long OrderNo(RedisResult value) => long.Parse((string)value!, CultureInfo.InvariantCulture);
}
