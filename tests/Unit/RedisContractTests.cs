using FlashSale.Engine.Redis;
using StackExchange.Redis;

namespace FlashSale.Tests.Unit;

/// <summary>The C# side of the Redis contract: the ledger record and outbox entry codecs, the generated reply codes.</summary>
public sealed class RedisContractTests
{
    [Fact]
    public void ALedgerRecordReadsBackAsWritten()
    {
        var record = new LedgerRecord(42, 2, 39_800, 1_790_000_000_123, 1_790_000_900_123, LedgerRecord.Reserved);

        Assert.Equal("42|2|39800|1790000000123|1790000900123|R", record.ToString());
        Assert.Equal(record, LedgerRecord.Parse(record.ToString()));
    }

    [Theory]
    [InlineData("")]
    [InlineData("not a ledger record")]
    [InlineData("42|2|39800|1|2")]
    [InlineData("42|2|39800|1|2|X")]
    [InlineData("42|-2|39800|1|2|R")]
    [InlineData("42|2|39800|1|2|R|extra")]
    public void AMalformedLedgerRecordIsAFormatError(string record)
        => Assert.Throws<FormatException>(() => LedgerRecord.Parse(record));

    [Fact]
    public void AnOutboxEntryBecomesTheReservationEvent()
    {
        var entry = new StreamEntry("1-1",
        [
            new("v", "1"), new("orderNo", "40919214063628329"), new("userId", "42"), new("campaignId", "spring"),
            new("skuId", "1001"), new("quantity", "2"), new("amountMinor", "39800"), new("createdAt", "1790000000123"),
            new("deadline", "1790000900123"), new("idempotencyKey", "k-1"),
        ]);

        var e = OutboxEntry.Read(entry);

        Assert.Equal((40919214063628329L, 42L, "spring", 1001L, 2, 39_800L, 1_790_000_000_123L, 1_790_000_900_123L, "k-1"),
            (e.OrderNo, e.UserId, e.CampaignId, e.SkuId, e.Quantity, e.AmountMinor, e.CreatedAtMs, e.PaymentDeadlineMs, e.IdempotencyKey));
    }

    [Fact]
    public void AnOutboxEntryWithoutAFieldIsAFormatError()
        => Assert.Throws<FormatException>(() => OutboxEntry.Read(new StreamEntry("1-1", [new("v", "1"), new("orderNo", "1")])));

    [Theory]
    [InlineData(ScriptCode.Done, "DONE")]
    [InlineData(ScriptCode.SoldOut, "SOLD_OUT")]
    [InlineData(ScriptCode.KeyReused, "KEY_REUSED")]
    [InlineData(ScriptCode.NotWarmed, "NOT_WARMED")]
    public void ReplyCodesReachTheScriptsUnderTheirLuaNames(ScriptCode code, string lua)
        => Assert.Equal(lua, RedisScript.LuaName(code));

    [Fact]
    public void EveryScriptCarriesTheGeneratedCodesAndThePrelude()
    {
        var script = RedisScript.Load("release.lua");

        Assert.StartsWith("local CODE = {", script.Text, StringComparison.Ordinal);
        Assert.Contains("ORDER_PAID = -6", script.Text, StringComparison.Ordinal);
        Assert.Contains($"STOCK_RETURNED_CHANNEL = '{RedisKeyspace.StockReturnedChannelName}'", script.Text, StringComparison.Ordinal);
        Assert.Contains("local function ledger_decode", script.Text, StringComparison.Ordinal);
    }
}
