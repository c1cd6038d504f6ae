namespace FlashSale.LoadTests.Scenarios;

/// <summary>
/// A few units and a crowd. Buyers are taken in turn, so nobody meets the per-buyer limit
/// before the pool wraps: nearly every refusal is <c>sold-out</c>, which is the path the
/// Ingress answers from its sold-out cache without a Redis round trip.
/// </summary>
public sealed class SoldOutFloodScenario(int stock, int buyers) : SingleSkuScenario(stock, buyers)
{
    public const string ScenarioName = "sold-out-flood";
    public const int DefaultStock = 100;
    public const int DefaultBuyers = 100_000;

    public override string Name => ScenarioName;

    protected override long Buyer(long sequence) => 1 + (sequence % BuyerPool);
}
