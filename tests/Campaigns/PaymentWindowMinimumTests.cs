using System.ComponentModel.DataAnnotations;
using FlashSale.Engine.Campaigns;

namespace FlashSale.Tests.Campaigns;

/// <summary><c>Campaigns:MinPaymentWindowSeconds</c>: what a deployment (a test run) may lower the 30 s minimum to.</summary>
public sealed class PaymentWindowMinimumTests
{
    private static CampaignDefinition Campaign(int paymentWindowSeconds) => new(
        "window-min", DateTimeOffset.Parse("2026-01-01T00:00:00Z"), DateTimeOffset.Parse("2026-01-01T01:00:00Z"),
        paymentWindowSeconds, [new CampaignSku(1, 1.00m, 1, 1)]);

    [Fact]
    public void DefaultMinimumRefusesAWindowUnder30Seconds()
    {
        Assert.Equal(30, new CampaignOptions().MinPaymentWindowSeconds);
        Assert.Contains("paymentWindowSeconds", CampaignValidator.Validate(Campaign(29)).Keys);
        Assert.Empty(CampaignValidator.Validate(Campaign(30)));
    }

    [Fact]
    public void LoweredMinimumAcceptsShortWindowsAndNamesItsBoundInTheError()
    {
        Assert.Empty(CampaignValidator.Validate(Campaign(2), minPaymentWindowSeconds: 2));
        var errors = CampaignValidator.Validate(Campaign(1), minPaymentWindowSeconds: 2);
        Assert.StartsWith("Between 2 and ", Assert.Single(errors["paymentWindowSeconds"]), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(CampaignValidator.MaxPaymentWindowSeconds + 1)]
    public void AMinimumOutsideOneSecondToTheMaximumWindowIsRefusedAtStart(int minimum)
    {
        var options = new CampaignOptions { MinPaymentWindowSeconds = minimum };
        Assert.False(Validator.TryValidateObject(options, new ValidationContext(options), null, validateAllProperties: true));
    }
}
