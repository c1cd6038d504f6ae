namespace FlashSale.LoadTests.Scenarios;

/// <summary>
/// Everyone wants the same SKU. Buyers are drawn at random (with repeats) from a pool, so once
/// a buyer has their unit, their later attempts meet the per-buyer limit, as in a real rush.
/// </summary>
public sealed class HotSkuScenario(int stock, int buyers, ulong seed) : IScenario
{
    public const string ScenarioName = "hot-sku";
    public const int DefaultStock = 5_000;
    public const int DefaultBuyers = 100_000;

    private string? _campaignId;

    public string Name => ScenarioName;

    public IEnumerable<long> Buyers => Enumerable.Range(1, buyers).Select(i => (long)i);

    public async Task<SaleUnderTest> SetUpAsync(SaleSetup setup, CancellationToken cancellationToken)
    {
        var sale = await SingleSkuSale.SetUpAsync(setup, stock, SingleSkuSale.PerUserLimit, cancellationToken);
        _campaignId = sale.CampaignId;
        return sale;
    }

    public ReserveRequest Next(long sequence)
    {
        var campaignId = _campaignId ?? throw new InvalidOperationException("SetUpAsync has not run.");
        // A hash of (seed, sequence) instead of a shared Random: lock-free under many threads,
        // and the same seed gives the same buyer for the same request number.
        var buyer = 1 + (long)(SplitMix64.Hash(seed ^ (ulong)sequence) % (ulong)buyers);
        return new ReserveRequest(campaignId, SingleSkuSale.SkuId, buyer, SingleSkuSale.IdempotencyKey(campaignId, sequence), 1);
    }
}
