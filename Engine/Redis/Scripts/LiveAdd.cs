using StackExchange.Redis;

namespace FlashSale.Engine.Redis;

public sealed partial class SkuScripts
{
    private static readonly RedisScript LiveAdd = RedisScript.Load("live-add.lua");

    /// <summary>Adds <paramref name="counts"/> to the second's live counters and keeps them for <paramref name="ttl"/> (live-add.lua).</summary>
    public async Task AddLiveCountsAsync(IDatabaseAsync db, RedisKey second, TimeSpan ttl, IReadOnlyList<KeyValuePair<string, long>> counts)
    {
        var values = new RedisValue[1 + (2 * counts.Count)];
        values[0] = (long)ttl.TotalSeconds;
        for (var i = 0; i < counts.Count; i++)
        {
            values[1 + (2 * i)] = counts[i].Key;
            values[2 + (2 * i)] = counts[i].Value;
        }
        var reply = await LiveAdd.EvaluateAsync(db, metrics, [second], values);
        if (Code(reply) != ScriptCode.Done)
        {
            throw Unexpected(LiveAdd, Code(reply));
        }
    }
}
