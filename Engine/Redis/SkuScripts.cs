using StackExchange.Redis;

namespace FlashSale.Engine.Redis;

/// <summary>
/// The typed face of the engine's Lua scripts: one method per script (each in Scripts/, next to its .lua
/// file), taking typed arguments and returning a typed reply. Reply codes (<see cref="ScriptCode"/>) and
/// the array positions of replies are decoded here and nowhere else.
/// </summary>
public sealed partial class SkuScripts(ScriptMetrics metrics)
{
    private static ScriptCode Code(RedisResult reply) => (ScriptCode)(int)reply;

    private static ScriptCode Code(RedisResult[] reply) => (ScriptCode)(int)reply[0];

    private static ScriptException Unexpected(RedisScript script, ScriptCode code)
        => new($"{script.Name}.lua replied with code {code}, which its wrapper does not expect.");
}

/// <summary>A script replied with something its wrapper does not know: the script and the wrapper disagree.</summary>
public sealed class ScriptException(string message) : Exception(message);
