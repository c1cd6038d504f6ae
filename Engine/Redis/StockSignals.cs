using System.Globalization;
using StackExchange.Redis;

namespace FlashSale.Engine.Redis;

/// <summary>
/// The pub/sub channel on which scripts that give stock back (a forced reload, a release) say so,
/// as <c>campaignId:skuId</c>, so every Ingress drops a sold-out answer it kept in memory.
/// </summary>
public static class StockSignals
{
    public static readonly RedisChannel Channel = RedisChannel.Literal("fs:stock-returned");

    public static string Format(string campaignId, long skuId) => $"{campaignId}:{skuId}";

    public static bool TryParse(string? message, out string campaignId, out long skuId)
    {
        campaignId = "";
        skuId = 0;
        var colon = message?.LastIndexOf(':') ?? -1;
        if (colon <= 0 || !long.TryParse(message.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out skuId))
        {
            return false;
        }
        campaignId = message![..colon];
        return true;
    }
}
