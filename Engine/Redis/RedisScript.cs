using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;

namespace FlashSale.Engine.Redis;

/// <summary>
/// One of the engine's Lua scripts, embedded as a resource and called by its SHA1 (EVALSHA): only 20 bytes
/// on the wire per call. A server that does not have it (restarted, failed over, SCRIPT FLUSH) answers
/// NOSCRIPT without running anything, so sending the text then (EVAL, which also caches it) can never run
/// the script twice. Every script is prefixed with the generated constants (<see cref="ScriptCode"/> as
/// <c>CODE</c>, the stock channel) and <c>prelude.lua</c>, the codecs every script shares.
/// <para>
/// A prelude rather than a Redis Functions library: a function library must be loaded before the first
/// call and survives as server state that a restore or a failover can lose or leave at an older version;
/// a script carries its whole code in every EVAL, so a server never runs a mix of versions.
/// </para>
/// </summary>
public sealed class RedisScript
{
    private static readonly string Preamble = BuildPreamble();

    private readonly KeyValuePair<string, object?> _tag;

    private RedisScript(string name, string body)
    {
        Name = name;
        Text = Preamble + body;
        _tag = new("script", name);
        // SHA1 is what Redis names scripts by; it identifies, it does not protect anything.
#pragma warning disable CA5350
        Hash = SHA1.HashData(Encoding.UTF8.GetBytes(Text));
#pragma warning restore CA5350
    }

    public string Name { get; }

    /// <summary>The whole text Redis runs: the preamble, then the script.</summary>
    public string Text { get; }

    public byte[] Hash { get; }

    public static RedisScript Load(string name) => new(Path.GetFileNameWithoutExtension(name), Resource(name));

    /// <summary>Every engine script's file name (the prelude aside), for operators and tools.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. typeof(RedisScript).Assembly.GetManifestResourceNames()
        .Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal) && n.EndsWith(".lua", StringComparison.Ordinal))
        .Select(n => n[ResourcePrefix.Length..])
        .Where(n => n != "prelude.lua")
        .Order(StringComparer.Ordinal)];

    /// <summary>Runs the script; every call (a failed one too) is timed into <see cref="ScriptMetrics"/>.</summary>
    public async Task<RedisResult> EvaluateAsync(IDatabaseAsync db, ScriptMetrics metrics, RedisKey[] keys, RedisValue[]? values = null)
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
            // A call that ran into the client's timeout is exactly the latency to see.
            metrics.Called(_tag, Stopwatch.GetElapsedTime(started));
        }
    }

    private static string BuildPreamble()
    {
        var text = new StringBuilder("local CODE = {");
        foreach (var code in Enum.GetValues<ScriptCode>())
        {
            text.Append(CultureInfo.InvariantCulture, $" {LuaName(code)} = {(int)code},");
        }
        text.Append(" }\n")
            .Append(CultureInfo.InvariantCulture, $"local STOCK_RETURNED_CHANNEL = '{RedisKeyspace.StockReturnedChannelName}'\n")
            .Append(CultureInfo.InvariantCulture, $"local BARRED = '{CouponKeyspace.Barred}'\n")
            .Append(Resource("prelude.lua"))
            .Append("-- end of prelude\n");
        return text.ToString();
    }

    /// <summary><c>SoldOut</c> → <c>SOLD_OUT</c>.</summary>
    public static string LuaName(ScriptCode code)
    {
        var name = code.ToString();
        var lua = new StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            if (i > 0 && char.IsUpper(name[i]))
            {
                lua.Append('_');
            }
            lua.Append(char.ToUpperInvariant(name[i]));
        }
        return lua.ToString();
    }

    private const string ResourcePrefix = "FlashSale.Engine.Redis.Scripts.";

    private static string Resource(string name)
    {
        using var stream = typeof(RedisScript).Assembly.GetManifestResourceStream(ResourcePrefix + name)
            ?? throw new InvalidOperationException($"Lua script {name} is not embedded.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
