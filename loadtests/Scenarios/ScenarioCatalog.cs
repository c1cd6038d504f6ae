using FlashSale.LoadTests.Cli;
using FlashSale.LoadTests.Scenarios.FullSale;

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
        new(ManySkusScenario.ScenarioName,
            $"One campaign with --skus SKUs (default {ManySkusScenario.DefaultSkus}, stock {ManySkusScenario.DefaultStockPerSku} each), "
            + "traffic spread over them, skewed by --skew; buyers at random, one unit per SKU each.",
            o => new ManySkusScenario(
                o.Skus ?? ManySkusScenario.DefaultSkus, o.Stock ?? ManySkusScenario.DefaultStockPerSku,
                o.Buyers ?? ManySkusScenario.DefaultBuyers, o.Skew, o.Seed)),
        new(ReplayStormScenario.ScenarioName,
            $"Buyers (default {ReplayStormScenario.DefaultBuyers}) resend their own {ReplayStormScenario.DefaultKeysPerBuyer} Idempotency-Keys "
            + "(--keys-per-buyer) again and again; stock half the keys. Every replay must return its key's first answer.",
            o => new ReplayStormScenario(
                o.Buyers ?? ReplayStormScenario.DefaultBuyers, o.KeysPerBuyer ?? ReplayStormScenario.DefaultKeysPerBuyer, o.Stock, o.Seed)),
        new(FullSaleScenario.ScenarioName,
            $"A whole sale with a {FullSaleScenario.DefaultPaymentWindowSeconds} s payment window (default stock {FullSaleScenario.DefaultStock}): "
            + "orders are paid (signed callbacks, some sent twice), cancelled, or left to time out; a second wave after the timeouts buys what came back.",
            o => new FullSaleScenario(new FullSaleSettings(
                o.Stock ?? FullSaleScenario.DefaultStock, o.Buyers ?? FullSaleScenario.DefaultBuyers,
                o.PayShare ?? FullSaleScenario.DefaultPayShare, o.CancelShare ?? FullSaleScenario.DefaultCancelShare,
                o.DuplicateShare ?? FullSaleScenario.DefaultDuplicateShare, o.PaymentWindowSeconds ?? FullSaleScenario.DefaultPaymentWindowSeconds,
                o.ThinkTime ?? FullSaleScenario.DefaultThinkTime, o.SecondWave, o.SettleTimeout ?? FullSaleScenario.DefaultSettleTimeout, o.Seed))),
    ];

    public static ScenarioEntry? Find(string name) => All.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.Ordinal));
}
