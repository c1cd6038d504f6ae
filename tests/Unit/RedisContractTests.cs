using FlashSale.Engine.Kafka;
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

        var e = Assert.Single(ReservationRecords.Read(OutboxEntry.Read(entry).Message));

        Assert.Equal((40919214063628329L, 42L, "spring", 1001L, 2, 39_800L, 1_790_000_000_123L, 1_790_000_900_123L, "k-1"),
            (e.OrderNo, e.UserId, e.CampaignId, e.SkuId, e.Quantity, e.AmountMinor, e.CreatedAtMs, e.PaymentDeadlineMs, e.IdempotencyKey));
    }

    [Fact]
    public void ABatchEntryIsForwardedAsItsRecordAndReadAsItsOrders()
    {
        var value = """{"version":3,"campaignId":"spring","skuId":1001,"orders":[["40919214063628329",42,2,39800,1790000000123,1790000900123,7,"k-1"],["40919214063628330",43,1,19900,1790000000123,1790000900123,8,"k\"2"]]}""";
        var entry = new StreamEntry("1790000000123-0", [new("v", "3"), new("orders", "40919214063628329,40919214063628330"), new("batch", value)]);

        var record = OutboxEntry.Read(entry);
        var events = ReservationRecords.Read(record.Message);

        Assert.Equal([40919214063628329L, 40919214063628330L], record.OrderNos);
        Assert.Equal("40919214063628329", record.Message.Key);
        Assert.Equal(value, System.Text.Encoding.UTF8.GetString(record.Message.Value));
        Assert.Equal([(40919214063628329L, 42L, "spring", 1001L, 2, 39_800L, 1_790_000_000_123L, 1_790_000_900_123L, "k-1", 7L),
                      (40919214063628330L, 43L, "spring", 1001L, 1, 19_900L, 1_790_000_000_123L, 1_790_000_900_123L, "k\"2", 8L)],
            events.Select(e => (e.OrderNo, e.UserId, e.CampaignId, e.SkuId, e.Quantity, e.AmountMinor, e.CreatedAtMs, e.PaymentDeadlineMs, e.IdempotencyKey, e.Sequence)));
        Assert.Equal(value, System.Text.Encoding.UTF8.GetString(ReservationBatch.Encode("spring", 1001, events)));
    }

    [Theory]
    [InlineData("""{"version":4,"campaignId":"s","skuId":1,"orders":[]}""")]
    [InlineData("""{"version":3,"campaignId":"s","skuId":1,"orders":[["x",1,1,1,1,1,1,"k"]]}""")]
    [InlineData("""{"version":3,"campaignId":"s","skuId":1,"orders":[["1",1,0,1,1,1,1,"k"]]}""")]
    [InlineData("""{"version":3,"campaignId":"s","skuId":1,"orders":[["1",1,1,1,1,1,1]]}""")]
    [InlineData("""{"orders":[],"version":3,"campaignId":"s","skuId":1}""")]
    [InlineData("""{"version":3,"campaignId":"s","skuId":1,"orders":[["1",1,1,1,1,1,1,"k"]]""")]
    public void AMalformedBatchIsAJsonError(string value)
        => Assert.ThrowsAny<System.Text.Json.JsonException>(() => ReservationBatch.Parse(System.Text.Encoding.UTF8.GetBytes(value)));

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
