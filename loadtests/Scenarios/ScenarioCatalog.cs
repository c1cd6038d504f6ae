using FlashSale.LoadTests.Cli;

namespace FlashSale.LoadTests.Scenarios;

/// <summary>A scenario's name, one-line summary for --help, and how to make it from the options.</summary>
public sealed record ScenarioEntry(string Name, string Summary, Func<LoadTestOptions, IScenario> Create);

/// <summary>The scenarios the command line knows; a new scenario class is added here.</summary>
public static class ScenarioCatalog
{
    public static IReadOnlyList<ScenarioEntry> All { get; } =
    [
        new(HotSkuScenario.ScenarioName,
            $"One SKU (default stock {HotSkuScenario.DefaultStock}), buyers drawn at random from a pool "
            + $"(default {HotSkuScenario.DefaultBuyers}); every request a new Idempotency-Key.",
            o => new HotSkuScenario(o.Stock ?? HotSkuScenario.DefaultStock, o.Buyers ?? HotSkuScenario.DefaultBuyers, o.Seed)),
        new(SoldOutFloodScenario.ScenarioName,
            $"Small stock (default {SoldOutFloodScenario.DefaultStock}), buyers taken in turn from a pool "
            + $"(default {SoldOutFloodScenario.DefaultBuyers}): most requests arrive after sell-out.",
            o => new SoldOutFloodScenario(o.Stock ?? SoldOutFloodScenario.DefaultStock, o.Buyers ?? SoldOutFloodScenario.DefaultBuyers)),
    ];

    public static ScenarioEntry? Find(string name) => All.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.Ordinal));
}
