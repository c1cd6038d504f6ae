using FlashSale.Contracts;

namespace FlashSale.LoadTests.Scenarios;

/// <summary>The campaign the single-SKU scenarios sell from: one SKU, one unit per buyer unless said otherwise.</summary>
internal static class SingleSkuSale
{
    public const long SkuId = 1;
    public const decimal Price = 9.99m;
    public const int PerUserLimit = 1;
    public const int PaymentWindowSeconds = 900;

    public static async Task<SaleUnderTest> SetUpAsync(
        SaleSetup setup, int stock, int perUserLimit, CancellationToken cancellationToken)
    {
        await setup.Engine.CreateCampaignAsync(
            setup.CampaignId, setup.StartsAt, setup.EndsAt, PaymentWindowSeconds,
            [new CampaignSkuBody(SkuId, Price, stock, perUserLimit)],
            cancellationToken);
        await setup.Engine.WarmUpAsync(setup.CampaignId, cancellationToken);
        return new SaleUnderTest(setup.CampaignId, [new SkuUnderTest(SkuId, stock)]);
    }

    /// <summary>Unique per request within the campaign, and well inside the 64 visible characters the API allows.</summary>
    public static string IdempotencyKey(string campaignId, long sequence)
        => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{campaignId}-{sequence}");
}

/// <summary>A rush on the single SKU: one unit per buyer, a new Idempotency-Key per request; subclasses choose the buyer.</summary>
public abstract class SingleSkuScenario(int stock, int buyers) : IScenario
{
    private string? _campaignId;

    public abstract string Name { get; }

    protected int BuyerPool => buyers;

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
        return new ReserveRequest(campaignId, SingleSkuSale.SkuId, Buyer(sequence), SingleSkuSale.IdempotencyKey(campaignId, sequence), 1);
    }

    /// <summary>The buyer of request <paramref name="sequence"/>, from 1 to the pool size; called from many threads.</summary>
    protected abstract long Buyer(long sequence);
}
