using FlashSale.Contracts;
using FlashSale.Engine.Campaigns;

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
