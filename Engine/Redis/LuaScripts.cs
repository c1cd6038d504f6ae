namespace FlashSale.Engine.Redis;

/// <summary>
/// The engine's Lua scripts, embedded as resources. StackExchange.Redis sends a script by its
/// SHA1 (EVALSHA) once the server has it and falls back to EVAL on NOSCRIPT, so callers pass the text.
/// </summary>
public static class LuaScripts
{
    public static string Reserve { get; } = Load("reserve.lua");

    public static string Warmup { get; } = Load("warmup.lua");

    public static string SoldOutSnapshot { get; } = Load("soldout-snapshot.lua");

    private static string Load(string name)
    {
        var assembly = typeof(LuaScripts).Assembly;
        using var stream = assembly.GetManifestResourceStream("FlashSale.Engine.Redis.Scripts." + name)
            ?? throw new InvalidOperationException($"Lua script {name} is not embedded.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
