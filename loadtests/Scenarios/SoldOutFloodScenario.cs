namespace FlashSale.LoadTests.Scenarios;

/// <summary>
/// A few units and a crowd. Buyers are taken in turn, so nobody meets the per-buyer limit
/// before the pool wraps: nearly every refusal is <c>sold-out</c>, which is the path the
/// Ingress answers from its sold-out cache without a Redis round trip.
/// </summary>
public sealed class SoldOutFloodScenario(int stock, int buyers) : IScenario
{
    public const string ScenarioName = "sold-out-flood";
    public const int DefaultStock = 100;
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
        var buyer = 1 + (sequence % buyers);
        return new ReserveRequest(campaignId, SingleSkuSale.SkuId, buyer, SingleSkuSale.IdempotencyKey(campaignId, sequence), 1);
    }
}
