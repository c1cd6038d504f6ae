using FlashSale.Contracts;
using FlashSale.Engine.Admission;

namespace FlashSale.Tests.Unit;

/// <summary>Admission tokens and queue tickets: signed, bound to buyer, campaign, SKU (and expiry), checked without Redis.</summary>
public sealed class AdmissionTokenTests
{
    private const string Key = "TEST-ONLY-admission-token-key-0123456789";
    private const long Now = 1_790_000_000_000;

    private readonly AdmissionTokens _tokens = new(Key);

    [Fact]
    public void ATokenIsValidForItsBuyerCampaignAndSkuUntilItExpires()
    {
        var token = _tokens.MintToken("spring", 1001, 42, 17, Now + 60_000);

        Assert.Equal(TokenCheck.Valid, _tokens.Check(token, "spring", 1001, 42, Now, out var sequence));
        Assert.Equal(17, sequence);
        Assert.Equal(TokenCheck.Valid, _tokens.Check(token, "spring", 1001, 42, Now + 59_999, out _));
        Assert.Equal(TokenCheck.Expired, _tokens.Check(token, "spring", 1001, 42, Now + 60_000, out sequence));
        Assert.Equal(0, sequence);
    }

    [Fact]
    public void ATokenIsNobodyElsesAndFitsNoOtherSku()
    {
        var token = _tokens.MintToken("spring", 1001, 42, 17, Now + 60_000);

        Assert.Equal(TokenCheck.NotYours, _tokens.Check(token, "spring", 1001, 43, Now, out _));
        Assert.Equal(TokenCheck.NotYours, _tokens.Check(token, "spring", 1002, 42, Now, out _));
        Assert.Equal(TokenCheck.NotYours, _tokens.Check(token, "summer", 1001, 42, Now, out _));
        Assert.Equal(TokenCheck.NotYours, new AdmissionTokens(Key + "-other").Check(token, "spring", 1001, 42, Now, out _));
    }

    [Fact]
    public void AnAlteredTokenIsRefused()
    {
        var token = _tokens.MintToken("spring", 1001, 42, 17, Now + 60_000);
        var parts = token.Split('.');

        // A later expiry or another ticket under the same signature.
        Assert.Equal(TokenCheck.NotYours, _tokens.Check($"{parts[0]}.{parts[1]}.{Now + 3_600_000}.{parts[3]}", "spring", 1001, 42, Now, out _));
        Assert.Equal(TokenCheck.NotYours, _tokens.Check($"{parts[0]}.18.{parts[2]}.{parts[3]}", "spring", 1001, 42, Now, out _));
        Assert.Equal(TokenCheck.NotYours, _tokens.Check(token[..^1] + (token[^1] == 'A' ? 'B' : 'A'), "spring", 1001, 42, Now, out _));
    }

    [Theory]
    [InlineData("")]
    [InlineData(null)]
    public void NoTokenIsMissing(string? token)
        => Assert.Equal(TokenCheck.Missing, _tokens.Check(token, "spring", 1001, 42, Now, out _));

    [Theory]
    [InlineData("garbage")]
    [InlineData("v1.17.1790000060000")]
    [InlineData("v2.17.1790000060000.c2ln")]
    [InlineData("v1.-17.1790000060000.c2ln")]
    [InlineData("v1.0.1790000060000.c2ln")]
    [InlineData("v1.17.soon.c2ln")]
    [InlineData("v1.17.1790000060000.c2ln.extra")]
    public void AMalformedTokenIsRefused(string token)
        => Assert.Equal(TokenCheck.Malformed, _tokens.Check(token, "spring", 1001, 42, Now, out _));

    [Fact]
    public void ATicketReadsBackOnlyForItsBuyerAndSku()
    {
        var ticket = _tokens.MintTicket("spring", 1001, 42, 1_234);

        Assert.True(_tokens.TryReadTicket(ticket, "spring", 1001, 42, out var sequence));
        Assert.Equal(1_234, sequence);
        Assert.False(_tokens.TryReadTicket(ticket, "spring", 1001, 43, out _));
        Assert.False(_tokens.TryReadTicket(ticket, "spring", 1002, 42, out _));
        Assert.False(_tokens.TryReadTicket("1235" + ticket[4..], "spring", 1001, 42, out _));
        Assert.False(_tokens.TryReadTicket("1234", "spring", 1001, 42, out _));
        Assert.False(_tokens.TryReadTicket(".x", "spring", 1001, 42, out _));
        Assert.False(_tokens.TryReadTicket(null, "spring", 1001, 42, out _));
    }

    [Fact]
    public void ATicketsStateFollowsFromItsSequenceAndTheWatermarks()
    {
        // Tickets 1-3 lapsed, 4-6 admitted at t, 7-8 admitted at t+1 s, 9 on waiting; tokens valid 60 s.
        var room = new QueueSnapshot(Now, true, 100, 10, Now - 1_000, Now + 3_600_000, false, 1_500, 60, 9, 8, 3,
            [new QueueWave(6, Now), new QueueWave(8, Now + 1_000)]);

        Assert.Equal(new TicketStatus(QueueStates.Expired), room.StatusOf(3, Now));
        Assert.Equal(new TicketStatus(QueueStates.Admitted, 0, Now + 60_000), room.StatusOf(4, Now));
        Assert.Equal(new TicketStatus(QueueStates.Admitted, 0, Now + 61_000), room.StatusOf(7, Now));
        Assert.Equal(new TicketStatus(QueueStates.Waiting, 1), room.StatusOf(9, Now));
        Assert.Equal(new TicketStatus(QueueStates.Waiting, 5), room.StatusOf(13, Now));
        // Past its wave's expiry a ticket is Expired before the admitting loop has noticed.
        Assert.Equal(new TicketStatus(QueueStates.Expired), room.StatusOf(4, Now + 60_000));
        // No unit left: every ticket at once; after the end, Ended.
        Assert.Equal(new TicketStatus(QueueStates.SoldOut), (room with { Available = 0 }).StatusOf(9, Now));
        Assert.Equal(new TicketStatus(QueueStates.SoldOut), (room with { Available = 0 }).StatusOf(4, Now));
        Assert.Equal(new TicketStatus(QueueStates.Ended), room.StatusOf(9, Now + 3_600_000));
    }
}
