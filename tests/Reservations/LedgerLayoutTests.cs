using FlashSale.Engine.Kafka;
using FlashSale.Engine.Redis;
using FlashSale.Engine.Reservations;
using FlashSale.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace FlashSale.Tests.Reservations;

/// <summary>
/// The SKU's keyspace (<see cref="LedgerLayout"/>, <see cref="BuyerRecord"/>): the ledger split into small hashes that
/// the scripts (Lua, 53-bit numbers) and C# (64-bit) find the same way, a batch writing one or two of them, and one field
/// per buyer holding their count and their keys.
/// </summary>
[Collection(IngressCollection.Name)]
[Trait("Cluster", "yes")]
public sealed class LedgerLayoutTests(IngressFactory factory)
{
    private SkuScripts Scripts => factory.Services.GetRequiredService<SkuScripts>();

    /// <summary>Order numbers where the Lua side's two-part arithmetic could go wrong: around 10^9 and 2^17, past 2^53, the largest.</summary>
    private static readonly long[] EdgeNumbers =
    [
        1, 131_071, 131_072, 999_999_999, 1_000_000_000, 1_000_131_071, 1_000_131_072, (1L << 53) + 1, (1L << 53) - 1,
        long.MaxValue, long.MaxValue - 131_072, 9_223_372_035_999_999_999, 999_948_288_000_131_071,
    ];

    public static TheoryData<long> EdgeOrderNumbers() => new(EdgeNumbers);

    [Theory]
    [MemberData(nameof(EdgeOrderNumbers))]
    public async Task AScriptPutsAnOrderInTheShardCSharpLooksIn(long orderNo)
    {
        var sale = await TestSale.StartAsync(factory, stock: 5_000);
        var shards = await LedgerLayout.ShardsAsync(sale.Db, sale.Keys);
        Assert.Equal(5_000 / LedgerLayout.OrdersPerShard + 1, shards);
        var record = new LedgerRecord(77, 1, 19_900, 1_764_547_200_000, 1_764_548_100_000, LedgerRecord.Reserved);

        Assert.Equal(AdoptOutcome.Adopted, (await Scripts.AdoptAsync(sale.Db, sale.Keys, orderNo, record, "edge")).Outcome);

        Assert.True(await sale.Db.HashExistsAsync(LedgerLayout.KeyOf(sale.Keys, shards, orderNo), orderNo));
        Assert.Equal(record, await LedgerLayout.FindAsync(sale.Db, sale.Keys, orderNo));
        Assert.Equal(1, await RedisLedger.LengthAsync(sale.Db, sale.Keys));
    }

    [Fact]
    public async Task OneBatchPutsEachOrderInTheShardCSharpLooksInOnBothSidesOfAGroupBoundary()
    {
        var sale = await TestSale.StartAsync(factory, stock: 5_000, perUserLimit: 1);
        var shards = await LedgerLayout.ShardsAsync(sale.Db, sale.Keys);
        // reserve-many.lua works a shard out once per block of 10^5 order numbers: numbers next to 2^17 boundaries
        // that fall inside a block (one below, one on it), in blocks where the boundary falls early, late or nowhere,
        // beside the edge numbers, all in one call.
        var boundaries = new[] { 1L, 7L, 100L, 7_629L, 1L << 40, (1L << 45) + 3 }.Select(group => group * 131_072);
        var numbers = boundaries.SelectMany(b => new[] { b - 1, b, b + 1 })
            .Concat(EdgeNumbers)
            .Concat(Enumerable.Range(0, 20).Select(_ => Random.Shared.NextInt64(1, long.MaxValue)))
            .Distinct().ToList();
        var requests = numbers.Select((orderNo, i) => new BatchRequest(884_000 + i, $"edge-{i}", 1, orderNo)).ToArray();

        var replies = (await Scripts.ReserveManyAsync(sale.Db, SkuScripts.ReserveKeys(sale.Keys), sale.Keys, requests, default)).Replies;

        Assert.All(replies, r => Assert.Equal(ScriptCode.Done, r.Code));
        foreach (var orderNo in numbers)
        {
            Assert.True(await sale.Db.HashExistsAsync(LedgerLayout.KeyOf(sale.Keys, shards, orderNo), orderNo), $"order {orderNo} is not in its shard");
        }
        Assert.Equal(numbers.Count, await RedisLedger.LengthAsync(sale.Db, sale.Keys));
    }

    [Fact]
    public async Task AHugeStockGetsNoMoreShardsThanAWalkShouldVisit()
    {
        var sale = await TestSale.StartAsync(factory, stock: 10_000_000);

        Assert.Equal(LedgerLayout.MaxShards, await LedgerLayout.ShardsAsync(sale.Db, sale.Keys));
    }

    [Fact]
    public async Task RandomOrderNumbersLandWhereCSharpLooks()
    {
        var sale = await TestSale.StartAsync(factory, stock: 5_000);
        var record = new LedgerRecord(78, 1, 19_900, 1_764_547_200_000, 1_764_548_100_000, LedgerRecord.Paid);
        var numbers = Enumerable.Range(0, 300).Select(_ => Random.Shared.NextInt64(1, long.MaxValue)).Distinct().ToList();

        foreach (var orderNo in numbers)
        {
            Assert.Equal(AdoptOutcome.Adopted, (await Scripts.AdoptAsync(sale.Db, sale.Keys, orderNo, record, $"r{orderNo}")).Outcome);
        }

        var found = await LedgerLayout.GetAsync(sale.Db, sale.Keys, numbers);
        Assert.All(found, value => Assert.Equal(record.ToString(), value.ToString()));
        Assert.Equal(numbers.Order(), (await RedisLedger.AllAsync(sale.Db, sale.Keys)).Select(e => (long)e.Name).Order());
    }

    [Fact]
    public async Task ABatchWritesOneOrTwoSmallHashesAndEachBuyerOneField()
    {
        var sale = await TestSale.StartAsync(factory, stock: 4_800, perUserLimit: 2);
        var shards = await LedgerLayout.ShardsAsync(sale.Db, sale.Keys);
        Assert.Equal(100, shards);
        // One millisecond for all 64 numbers, as on a node that hands them out together: a real clock on a loaded
        // machine can cross two millisecond boundaries between them, each starting a new group.
        var numbers = new OrderNumberGenerator(3, new FakeTimeProvider(DateTimeOffset.UtcNow));
        var buyers = Enumerable.Range(0, 64).Select(i => 880_000L + (i % 32)).ToArray();
        var requests = buyers.Select((user, i) => new BatchRequest(user, $"key-{i}", 1, numbers.Next(user))).ToArray();

        var replies = (await Scripts.ReserveManyAsync(sale.Db, SkuScripts.ReserveKeys(sale.Keys), sale.Keys, requests, default)).Replies;

        Assert.All(replies, r => Assert.Equal(ScriptCode.Done, r.Code));
        // Consecutive numbers of one node in one millisecond: groups of 32 sequence numbers, so 64 of them fill two shards.
        var used = requests.Select(r => LedgerLayout.KeyOf(sale.Keys, shards, r.OrderNo)).Distinct().ToList();
        Assert.Equal(2, used.Count);
        foreach (var key in used)
        {
            Assert.Equal("listpack", (string?)await sale.Db.ExecuteAsync("OBJECT", "ENCODING", key));
        }
        Assert.False(await sale.Db.KeyExistsAsync(sale.Keys.Ledger));
        // Each buyer: two units, and both keys with their orders, in one field.
        var first = BuyerRecord.Parse(await sale.Db.HashGetAsync(sale.Keys.Users, buyers[0]));
        Assert.Equal(2, first.Bought);
        Assert.Equal([("key-0", requests[0].OrderNo), ("key-32", requests[32].OrderNo)], first.Orders);
        Assert.Equal(32, await sale.Db.HashLengthAsync(sale.Keys.Users));
    }

    [Fact]
    public async Task AReleaseGivesTheUnitsBackAndTheKeyStillAnswersItsOrder()
    {
        var sale = await TestSale.StartAsync(factory, stock: 10, perUserLimit: 1);
        var orderNo = new OrderNumberGenerator(4, TimeProvider.System).Next(881_000);
        var request = new BatchRequest(881_000, "release-me", 1, orderNo);
        Assert.Equal(ScriptCode.Done, Assert.Single((await Scripts.ReserveManyAsync(sale.Db, SkuScripts.ReserveKeys(sale.Keys), sale.Keys, [request], default)).Replies).Code);

        Assert.Equal(ReleaseOutcome.Released, await Scripts.ReleaseAsync(sale.Db, sale.Keys, orderNo));

        var buyer = BuyerRecord.Parse(await sale.Db.HashGetAsync(sale.Keys.Users, 881_000));
        Assert.Equal(0, buyer.Bought);
        Assert.Equal(orderNo, buyer.OrderOf("release-me"));
        var replay = Assert.Single((await Scripts.ReserveManyAsync(sale.Db, SkuScripts.ReserveKeys(sale.Keys), sale.Keys,
            [request with { OrderNo = orderNo + 4096 }], default)).Replies);
        Assert.Equal(ScriptCode.Replayed, replay.Code);
        Assert.Equal(orderNo, replay.OrderNo);
        Assert.Equal(LedgerRecord.Cancelled, replay.Record.State);
    }

    [Fact]
    public async Task ABuyerWithManyOrdersKeepsASmallFieldAndEveryKeyStillReplays()
    {
        var sale = await TestSale.StartAsync(factory, stock: 100, perUserLimit: 50);
        var numbers = new OrderNumberGenerator(6, TimeProvider.System);
        const long buyer = 883_000;
        var requests = Enumerable.Range(0, 10).Select(i => new BatchRequest(buyer, $"many-{i}", 1, numbers.Next(buyer))).ToArray();
        // Six in one batch (one past the fold within the batch), then four one by one.
        var first = (await Scripts.ReserveManyAsync(sale.Db, SkuScripts.ReserveKeys(sale.Keys), sale.Keys, requests[..6], default)).Replies;
        Assert.All(first, r => Assert.Equal(ScriptCode.Done, r.Code));
        foreach (var request in requests[6..])
        {
            Assert.Equal(ScriptCode.Done, Assert.Single((await Scripts.ReserveManyAsync(sale.Db, SkuScripts.ReserveKeys(sale.Keys), sale.Keys, [request], default)).Replies).Code);
        }

        var record = BuyerRecord.Parse(await sale.Db.HashGetAsync(sale.Keys.Users, buyer));
        Assert.Equal(10, record.Bought);
        Assert.True(record.More);
        Assert.Equal(requests[..BuyerRecord.Folded].Select(r => (r.IdempotencyKey, r.OrderNo)), record.Orders);
        Assert.Equal(10 - BuyerRecord.Folded, await sale.Db.HashLengthAsync(sale.Keys.Idempotency));
        // Every key, folded or not, answers its own order; a new key is a new order.
        var replays = (await Scripts.ReserveManyAsync(sale.Db, SkuScripts.ReserveKeys(sale.Keys), sale.Keys,
            [.. requests.Select(r => r with { OrderNo = numbers.Next(buyer) })], default)).Replies;
        Assert.Equal(requests.Select(r => (ScriptCode.Replayed, r.OrderNo)), replays.Select(r => (r.Code, r.OrderNo)));
        foreach (var request in requests)
        {
            Assert.True(await BuyerRecord.OwnsAsync(sale.Db, sale.Keys, buyer, request.IdempotencyKey));
        }
        Assert.False(await BuyerRecord.OwnsAsync(sale.Db, sale.Keys, buyer, "never-used"));
    }

    [Fact]
    public async Task ASkuWhoseLedgerAnOlderEngineWroteAsOneHashKeepsIt()
    {
        var sale = await TestSale.StartAsync(factory, stock: 100);
        // As an older engine loaded it: no shard count.
        await sale.Db.HashDeleteAsync(sale.Keys.Meta, MetaFields.LedgerShards);
        var orderNo = new OrderNumberGenerator(5, TimeProvider.System).Next(882_000);

        var reply = Assert.Single((await Scripts.ReserveManyAsync(sale.Db, SkuScripts.ReserveKeys(sale.Keys), sale.Keys,
            [new BatchRequest(882_000, "old", 1, orderNo)], default)).Replies);

        Assert.Equal(ScriptCode.Done, reply.Code);
        Assert.True(await sale.Db.HashExistsAsync(sale.Keys.Ledger, orderNo));
        Assert.NotNull(await LedgerLayout.FindAsync(sale.Db, sale.Keys, orderNo));
        Assert.Equal(MarkPaidOutcome.Marked, await Scripts.MarkPaidAsync(sale.Db, sale.Keys, orderNo));
        Assert.Equal(LedgerRecord.Paid, (await LedgerLayout.FindAsync(sale.Db, sale.Keys, orderNo))!.Value.State);

        // An order the older engine made, as it kept it: the buyer's bare count, the key in the idempotency hash.
        var older = orderNo - (1L << 12);
        var record = new LedgerRecord(882_001, 1, 19_900, 1_764_547_200_000, 1_764_548_100_000, LedgerRecord.Reserved);
        await sale.Db.HashSetAsync(sale.Keys.Ledger, older, record.ToString());
        await sale.Db.HashSetAsync(sale.Keys.Users, 882_001, 1);
        await sale.Db.HashSetAsync(sale.Keys.Idempotency, "882001:before-upgrade", older);
        var replay = Assert.Single((await Scripts.ReserveManyAsync(sale.Db, SkuScripts.ReserveKeys(sale.Keys), sale.Keys,
            [new BatchRequest(882_001, "before-upgrade", 1, orderNo + (1L << 12))], default)).Replies);
        Assert.Equal((ScriptCode.Replayed, older), (replay.Code, replay.OrderNo));
        Assert.True(await BuyerRecord.OwnsAsync(sale.Db, sale.Keys, 882_001, "before-upgrade"));
    }
}
