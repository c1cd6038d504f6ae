using FlashSale.Engine.Campaigns;

namespace FlashSale.Tests.Unit;

/// <summary>A campaign's <c>admission</c>: validated like the rest of the definition, and part of its fingerprint only as a queue.</summary>
public sealed class AdmissionDefinitionTests
{
    private static CampaignDefinition Campaign(AdmissionSettings? admission) => new(
        "admission", DateTimeOffset.Parse("2026-01-01T00:00:00Z"), DateTimeOffset.Parse("2026-01-01T01:00:00Z"),
        900, [new CampaignSku(1, 1.00m, 100, 1)], Admission: admission);

    [Fact]
    public void OpenOrAQueueWithinBoundsIsValid()
    {
        Assert.Empty(CampaignValidator.Validate(Campaign(null)));
        Assert.Empty(CampaignValidator.Validate(Campaign(AdmissionSettings.Open)));
        Assert.Empty(CampaignValidator.Validate(Campaign(new AdmissionSettings("queue", 1.5m, 60))));
        Assert.Empty(CampaignValidator.Validate(Campaign(new AdmissionSettings("queue", 1m, 5))));
        Assert.Empty(CampaignValidator.Validate(Campaign(new AdmissionSettings("queue", 100m, 3600))));
        Assert.Empty(CampaignValidator.Validate(Campaign(new AdmissionSettings("queue", 1.125m, 60))));
    }

    [Theory]
    [InlineData("Queue", 1.5, 60, "admission.mode")]
    [InlineData("waiting-room", 1.5, 60, "admission.mode")]
    [InlineData("", 1.5, 60, "admission.mode")]
    [InlineData("queue", 0.99, 60, "admission.admitFactor")]
    [InlineData("queue", 0, 60, "admission.admitFactor")]
    [InlineData("queue", 100.001, 60, "admission.admitFactor")]
    [InlineData("queue", 1.5005, 60, "admission.admitFactor")]
    [InlineData("queue", 1.5, 4, "admission.tokenSeconds")]
    [InlineData("queue", 1.5, 3601, "admission.tokenSeconds")]
    public void AnAdmissionOutOfBoundsIsNamedByItsField(string mode, double factor, int tokenSeconds, string field)
    {
        var errors = CampaignValidator.Validate(Campaign(new AdmissionSettings(mode, (decimal)factor, tokenSeconds)));

        Assert.Equal([field], errors.Keys);
    }

    [Fact]
    public void AnOpenCampaignKeepsTheFingerprintItHadBeforeAdmissionExisted()
    {
        // SHA-256 of "admission|1767225600000|1767229200000|900|1:1.00:100:1", the digest before issue 12: a stored open
        // campaign sent again is still the same definition.
        const string Before = "99257925c456792a8cabbc6b4a597dcf004f54e812b80e7d9ec53b599d91f0bc";

        Assert.Equal(Before, Campaign(null).Fingerprint());
        Assert.Equal(Before, CampaignValidator.Normalize(Campaign(AdmissionSettings.Open)).Fingerprint());
        Assert.Equal(Before, CampaignValidator.Normalize(Campaign(new AdmissionSettings("open", 3m, 10))).Fingerprint());
        Assert.Null(CampaignValidator.Normalize(Campaign(AdmissionSettings.Open)).Admission);
    }

    [Fact]
    public void AQueueIsPartOfTheDefinitionsFingerprint()
    {
        var open = Campaign(null).Fingerprint();
        var queue = Campaign(new AdmissionSettings("queue", 1.5m, 60)).Fingerprint();

        Assert.NotEqual(open, queue);
        Assert.NotEqual(queue, Campaign(new AdmissionSettings("queue", 2m, 60)).Fingerprint());
        Assert.NotEqual(queue, Campaign(new AdmissionSettings("queue", 1.5m, 61)).Fingerprint());
        Assert.Equal(queue, Campaign(new AdmissionSettings("queue", 1.500m, 60)).Fingerprint());
    }
}
