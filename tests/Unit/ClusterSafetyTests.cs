using System.Text.RegularExpressions;
using FlashSale.Engine.Fencing;
using FlashSale.Engine.Redis;

namespace FlashSale.Tests.Unit;

/// <summary>
/// What keeps the engine correct on a Redis Cluster, checked without one: a SKU's keys share one hash slot (its tag,
/// also under a key prefix), every key a script touches is one of its KEYS, and the cluster's identity and map are read
/// as Redis writes them.
/// </summary>
public sealed partial class ClusterSafetyTests
{
    [Theory]
    [InlineData("foo", 12182)]
    [InlineData("123456789", 12739)]
    [InlineData("{user1000}.following", 3443)]
    [InlineData("{user1000}.followers", 3443)]
    [InlineData("user1000", 3443)]
    [InlineData("foo{}{bar}", 8363)]
    [InlineData("foo{{bar}}zap", 4015)]
    [InlineData("foo{bar}{zap}", 5061)]
    [InlineData("bar", 5061)]
    public void HashSlotsAreRedisClusters(string key, int slot)
        => Assert.Equal(slot, HashSlot.Of(key));

    [Theory]
    [InlineData("spring-2026", 1001L, "")]
    [InlineData("spring-2026", 1001L, "test:e3:")]
    [InlineData("a:b:c", 7L, "bench:")]
    [InlineData("t-0123456789abcdef", 999_999L, "tenant-42:")]
    public void EveryKeyOfASkuIsInItsTagsSlotWithOrWithoutAPrefix(string campaignId, long skuId, string prefix)
    {
        var sku = new SkuKeys(campaignId, skuId);
        var slot = HashSlot.Of(sku.Tag);
        Assert.Equal(HashSlot.Of(sku.Member), slot);
        Assert.All(sku.All(), key => Assert.Equal(slot, HashSlot.Of(prefix + key.ToString())));
    }

    /// <summary>Keys of different SKUs usually land on different slots: the cluster spreads SKUs over its masters.</summary>
    [Fact]
    public void SkusSpreadOverTheSlots()
    {
        var slots = Enumerable.Range(1, 1_000).Select(i => HashSlot.Of(new SkuKeys("spread", i).Tag)).ToList();
        Assert.True(slots.Distinct().Count() > 950);
        Assert.InRange(slots.Count(s => s < HashSlot.Count / 3), 280, 390);
    }

    /// <summary>
    /// A script may only touch keys it was given in KEYS (a cluster routes the call by them, and refuses a key of another
    /// slot): every redis.call on a key names KEYS[n] directly or through a prelude function's parameter, and every
    /// prelude function that takes a key is called with KEYS[n]. TIME and PUBLISH take no key. The one exception is a
    /// ledger shard, KEYS[n] .. ':' .. shard (prelude.lua's ledger_key): a key the caller did not name, but in the same
    /// slot as the KEYS[n] it extends, whose hash tag it keeps; it is allowed as ledger_key(KEYS[n], …) or as a name the
    /// script binds to such a call, or to a call of a function it bound to ledger_keys(KEYS[n], …) (the same shards, for
    /// the many orders of one call).
    /// </summary>
    [Fact]
    public void EveryKeyAScriptTouchesIsOneOfItsKeys()
    {
        string[] preludeKeyParameters = ["meta", "ledger", "outbox"];
        string[] keyless = ["TIME", "PUBLISH"];
        Assert.NotEmpty(RedisScript.Names);
        foreach (var name in RedisScript.Names)
        {
            // Without comments (the prelude's explain how its functions are called).
            var text = LuaComment().Replace(RedisScript.Load(name).Text, "");
            var shardFunctions = LedgerShardFunction().Matches(text).Select(m => m.Groups["name"].Value).Prepend("ledger_key").ToHashSet();
            var shardNames = LocalCall().Matches(text).Where(m => shardFunctions.Contains(m.Groups["function"].Value))
                .Select(m => m.Groups["name"].Value).ToHashSet();
            var calls = RedisCall().Matches(text);
            Assert.NotEmpty(calls);
            foreach (Match call in calls)
            {
                var (command, key) = (call.Groups["command"].Value, call.Groups["key"].Value.Trim());
                if (keyless.Contains(command))
                {
                    continue;
                }
                Assert.True(KeysEntry().IsMatch(key) || preludeKeyParameters.Contains(key) || shardNames.Contains(key) || key.StartsWith("ledger_key(", StringComparison.Ordinal),
                    $"{name}: redis.call('{command}', {key}, ...) touches a key that is not one of KEYS");
            }
            foreach (Match call in PreludeKeyCall().Matches(text))
            {
                var argument = call.Groups["key"].Value.Trim();
                // A prelude function may hand its own key parameter on (ledger_find to ledger_key).
                Assert.True(KeysEntry().IsMatch(argument) || preludeKeyParameters.Contains(argument) || call.Value.StartsWith("local function", StringComparison.Ordinal),
                    $"{name}: {call.Value.Trim()} passes {argument}, not one of KEYS");
            }
        }
    }

    [Fact]
    public void AClusterIdentityIsItsPrimariesAndSaysWhichChanged()
    {
        RedisIdentity a = new("aaaa", "ra"), b = new("bbbb", "rb"), c = new("cccc", "rc"), b2 = new("b222", "rb2");
        var trusted = RedisIdentity.Combine([c, a, b]);
        Assert.Equal("aaaa,bbbb,cccc/ra,rb,rc", trusted.ToString());
        Assert.Equal([a, b, c], trusted.Members);
        Assert.Equal(trusted, RedisIdentity.Combine([b, c, a]));
        Assert.NotEqual(trusted, RedisIdentity.Combine([a, b2, c]));
        Assert.Equal([a], a.Members);
        Assert.Equal(a, RedisIdentity.Combine([a]));
    }

    [Fact]
    public void TheClusterMapListsThePrimariesThatServeSlots()
    {
        const string nodes = """
            07c37dfeb235213a872192d90877d0cd55635b91 127.0.0.1:30004@31004,hostname4 slave e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 0 1426238317239 4 connected
            67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1 127.0.0.1:30002@31002 master - 0 1426238316232 2 connected 5461-10922
            292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f 127.0.0.1:30003@31003 master - 0 1426238318243 3 connected 10923-16383 [5460->-67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1]
            6ec23923021cf3ffec47632106199cb7f496ce01 127.0.0.1:30005@31005 master,fail - 0 1426238316232 5 disconnected
            e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:30001@31001 myself,master - 0 0 1 connected 0-5459 5460
            """;

        var primaries = RedisTopology.ParseClusterNodes(nodes);

        Assert.Equal(["127.0.0.1:30002", "127.0.0.1:30003", "127.0.0.1:30001"], primaries.Select(p => p.EndPoint));
        Assert.Equal([new SlotRange(0, 5459), new SlotRange(5460, 5460)], primaries[2].Slots);
        Assert.Equal(HashSlot.Count, primaries.Sum(p => p.Slots.Sum(r => r.Count)));
    }

    [GeneratedRegex(@"redis\.p?call\(\s*'(?<command>[A-Z]+)'\s*(?:,(?<key>[^,)]+))?")]
    private static partial Regex RedisCall();

    [GeneratedRegex(@"--[^\n]*")]
    private static partial Regex LuaComment();

    /// <summary>A name bound to the result of a call, <c>local name = function(</c>: a ledger shard's key when the function is ledger_key or a shard function.</summary>
    [GeneratedRegex(@"local (?<name>\w+) = (?<function>\w+)\(")]
    private static partial Regex LocalCall();

    /// <summary>A name bound to a function that gives ledger shards' keys: <c>local name = ledger_keys(</c>.</summary>
    [GeneratedRegex(@"local (?<name>\w+) = ledger_keys\(")]
    private static partial Regex LedgerShardFunction();

    [GeneratedRegex(@"^KEYS\[\d+\]$")]
    private static partial Regex KeysEntry();

    /// <summary>Calls of the prelude's functions whose first parameter is a key (and their definitions).</summary>
    [GeneratedRegex(@"(?:local function )?\b(?:ledger_key|ledger_keys|ledger_shards|ledger_find|count_state|outbox_add|fence|advance|stock_returned)\((?<key>[^,)]+)")]
    private static partial Regex PreludeKeyCall();
}
