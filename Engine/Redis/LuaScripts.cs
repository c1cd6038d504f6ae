using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using FlashSale.Engine.Observability;
using StackExchange.Redis;

namespace FlashSale.Engine.Redis;

/// <summary>The engine's Lua scripts, embedded as resources.</summary>
public static class LuaScripts
{
    public static RedisScript Reserve { get; } = Load("reserve.lua");

    public static RedisScript Warmup { get; } = Load("warmup.lua");

    public static RedisScript SoldOutSnapshot { get; } = Load("soldout-snapshot.lua");

    public static RedisScript Release { get; } = Load("release.lua");

    public static RedisScript MarkPaid { get; } = Load("mark-paid.lua");

    public static RedisScript LedgerSnapshot { get; } = Load("ledger-snapshot.lua");

    public static RedisScript Adopt { get; } = Load("adopt.lua");

    public static RedisScript Republish { get; } = Load("republish.lua");

    public static RedisScript Restock { get; } = Load("restock.lua");

    private static RedisScript Load(string name)
    {
        var assembly = typeof(LuaScripts).Assembly;
        using var stream = assembly.GetManifestResourceStream("FlashSale.Engine.Redis.Scripts." + name)
            ?? throw new InvalidOperationException($"Lua script {name} is not embedded.");
        using var reader = new StreamReader(stream);
        return new RedisScript(Path.GetFileNameWithoutExtension(name), reader.ReadToEnd());
    }
}

/// <summary>
/// A script called by its SHA1 (EVALSHA): only 20 bytes on the wire per call. A server that does not
/// have it (restarted, failed over, SCRIPT FLUSH) answers NOSCRIPT without running anything, so
/// sending the text then (EVAL, which also caches it) can never run the script twice.
/// Every call is timed into <see cref="EngineMetrics"/> under the script's name.
/// </summary>
public sealed class RedisScript(string name, string text)
{
    // Built once: the reservation path records it on every call without allocating a tag.
    private readonly KeyValuePair<string, object?> _tag = new("script", name);

    public string Name { get; } = name;

    public string Text { get; } = text;

    // SHA1 is what Redis names scripts by; it identifies, it does not protect anything.
#pragma warning disable CA5350
    public byte[] Hash { get; } = SHA1.HashData(Encoding.UTF8.GetBytes(text));
#pragma warning restore CA5350

    public async Task<RedisResult> EvaluateAsync(IDatabaseAsync db, EngineMetrics metrics, RedisKey[] keys, RedisValue[]? values = null)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            return await db.ScriptEvaluateAsync(Hash, keys, values);
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            return await db.ScriptEvaluateAsync(Text, keys, values);
        }
        finally
        {
            // Failures are timed too: a call that ran into the client's timeout is exactly the latency to see.
            metrics.ScriptCalled(_tag, Stopwatch.GetElapsedTime(started));
        }
    }
}
