namespace FlashSale.LoadTests.Scenarios;

/// <summary>
/// Everyone wants the same SKU. Buyers are drawn at random (with repeats) from a pool, so once
/// a buyer has their unit, their later attempts meet the per-buyer limit, as in a real rush.
/// With <c>buyersInTurn</c> they are taken in turn instead: a pool at least as large as the requests
/// makes every request a new buyer, so a soak measures the created path alone, one buyer's keys per order.
/// </summary>
public sealed class HotSkuScenario(int stock, int buyers, ulong seed, bool buyersInTurn = false) : SingleSkuScenario(stock, buyers)
{
    public const string ScenarioName = "hot-sku";
    public const int DefaultStock = 5_000;
    public const int DefaultBuyers = 100_000;

    public override string Name => ScenarioName;

    // A hash of (seed, sequence) instead of a shared Random: lock-free under many threads,
    // and the same seed gives the same buyer for the same request number.
    protected override long Buyer(long sequence) => buyersInTurn
        ? 1 + (sequence % BuyerPool)
        : 1 + (long)(SplitMix64.Hash(seed ^ (ulong)sequence) % (ulong)BuyerPool);
}
