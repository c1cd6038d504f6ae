using FlashSale.Contracts;
using FlashSale.Engine.Reconciliation;
using FlashSale.Engine.Redis;

namespace FlashSale.Tests.Unit;

/// <summary>The reconciler's comparison of a SKU's Redis counts and ledger pages with its MySQL orders, without services.</summary>
public sealed class LedgerComparisonTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Margin = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Old = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan Young = TimeSpan.FromSeconds(5);

    public enum RedisSide
    {
        Absent,
        Reserved,
        Paid,
        Cancelled,
    }

    public enum Age
    {
        Young,
        Old,
    }

    /// <summary>One order on both sides: what Redis's ledger says, what MySQL says (null: no row), its age, whether it is still pending in the outbox.</summary>
    [Theory]
    [InlineData(RedisSide.Reserved, OrderStatus.PendingPayment, Age.Old, false, null, 0L, 0L)]
    [InlineData(RedisSide.Paid, OrderStatus.Paid, Age.Old, false, null, 0L, 0L)]
    [InlineData(RedisSide.Cancelled, OrderStatus.Cancelled, Age.Old, false, null, 0L, 0L)]
    [InlineData(RedisSide.Reserved, null, Age.Young, false, null, 0L, 2L)]
    [InlineData(RedisSide.Reserved, null, Age.Old, true, null, 0L, 2L)]
    [InlineData(RedisSide.Reserved, null, Age.Old, false, DriftKind.LostEvent, 2L, 0L)]
    [InlineData(RedisSide.Absent, OrderStatus.PendingPayment, Age.Old, false, DriftKind.UnknownToRedis, 2L, 0L)]
    [InlineData(RedisSide.Absent, OrderStatus.Paid, Age.Old, false, DriftKind.UnknownToRedis, 2L, 0L)]
    [InlineData(RedisSide.Absent, OrderStatus.Cancelled, Age.Old, false, null, 0L, 0L)]
    [InlineData(RedisSide.Reserved, OrderStatus.Cancelled, Age.Old, false, DriftKind.UnreleasedCancel, 2L, 0L)]
    [InlineData(RedisSide.Reserved, OrderStatus.Cancelled, Age.Young, false, null, 0L, 2L)]
    [InlineData(RedisSide.Cancelled, OrderStatus.PendingPayment, Age.Old, false, DriftKind.Conflict, 2L, 0L)]
    [InlineData(RedisSide.Paid, OrderStatus.Cancelled, Age.Old, false, DriftKind.Conflict, 2L, 0L)]
    public void OneOrderIsJudgedByBothSidesAndItsAge(
        RedisSide redis, string? db, Age age, bool pending, string? expectedKind, long expectedDrift, long expectedInFlight)
    {
        const long orderNo = 42;
        var created = Now - (age == Age.Old ? Old : Young);
        var ledger = new Dictionary<long, LedgerRecord>();
        if (redis != RedisSide.Absent)
        {
            var state = redis switch { RedisSide.Paid => LedgerRecord.Paid, RedisSide.Cancelled => LedgerRecord.Cancelled, _ => LedgerRecord.Reserved };
            ledger[orderNo] = new LedgerRecord(7, 2, 2_000, created.ToUnixTimeMilliseconds(), created.AddMinutes(15).ToUnixTimeMilliseconds(), state);
        }
        var orders = db is null ? [] : new[] { Order(orderNo, db, created) };

        var check = Check(ledger, orders, pending ? [orderNo] : []);

        Assert.Equal(expectedDrift, check.Ledger.Drift);
        Assert.Equal(expectedInFlight, check.Ledger.InFlight);
        if (expectedKind is null)
        {
            Assert.Empty(check.Ledger.Findings);
        }
        else
        {
            var finding = Assert.Single(check.Ledger.Findings);
            Assert.Equal(expectedKind, finding.Kind);
            Assert.Equal(orderNo, finding.OrderNo);
        }
    }

    [Fact]
    public void APaidOrderStillLabelledReservedIsRelabelledNotDrift()
    {
        var created = Now - Old;
        var ledger = new Dictionary<long, LedgerRecord> { [1] = Record(created, LedgerRecord.Reserved) };

        var check = Check(ledger, [Order(1, OrderStatus.Paid, created, quantity: 1)], []);

        Assert.Equal(0, check.Ledger.Drift);
        Assert.Equal([1L], check.PaidLabels);
        Assert.True(check.NeedsRepair);
    }

    [Fact]
    public void AnOrderDecidedAfterTheWalkBeganIsNotUnknownToRedis()
    {
        var unknown = LedgerComparison.UnknownToRedis([Order(1, OrderStatus.PendingPayment, Now.AddMilliseconds(-200))], new HashSet<long>(), Now, Margin);

        Assert.Empty(unknown);
    }

    [Theory]
    [InlineData(10, 3, 7, null, 0)]
    [InlineData(10, 3, 5, DriftKind.StockMismatch, 2)]
    [InlineData(10, 3, 9, DriftKind.StockMismatch, 2)]
    [InlineData(2, 3, 0, DriftKind.Oversold, 1)]
    public void StockIsTotalMinusTheUnitsTheCountsHold(int total, int heldUnits, int available, string? kind, int units)
    {
        var counters = Counters(total, available, reserved: heldUnits, sold: 0);
        var db = new DbLedgerSide(heldUnits, 0, 0);

        Assert.False(LedgerComparison.WalkNeeded(counters, db));
        var check = LedgerComparison.Compare("c", 1, total, counters, db, LedgerWalk.NotNeeded());

        if (kind is null)
        {
            Assert.Empty(check.Ledger.Findings);
            Assert.False(check.StockOff);
        }
        else
        {
            var finding = Assert.Single(check.Ledger.Findings);
            Assert.Equal((kind, units), (finding.Kind, finding.Units));
            Assert.Equal(available > 0, check.StockOff);
        }
        Assert.Equal(new RedisLedgerSide(available, heldUnits, 0), check.Ledger.Redis);
    }

    [Fact]
    public void OrdersAreWalkedOnlyWhenTheCountsOfBothSidesDisagreeOrAreNotExact()
    {
        var agreeing = Counters(10, 5, reserved: 3, sold: 2);

        Assert.False(LedgerComparison.WalkNeeded(agreeing, new DbLedgerSide(3, 2, 4)));
        Assert.True(LedgerComparison.WalkNeeded(agreeing, new DbLedgerSide(2, 2, 0)));
        Assert.True(LedgerComparison.WalkNeeded(agreeing, new DbLedgerSide(2, 3, 0)));
        Assert.True(LedgerComparison.WalkNeeded(agreeing with { Counted = false }, new DbLedgerSide(3, 2, 0)));
        Assert.True(LedgerComparison.WalkNeeded(SkuCounters.NotWarmed(Now), new DbLedgerSide(0, 0, 0)));
    }

    [Fact]
    public void WithoutExactCountsTheStockIsNotJudgedAndTheWalkShowsTheRedisSide()
    {
        var created = Now - Old;
        var ledger = new Dictionary<long, LedgerRecord> { [1] = Record(created, LedgerRecord.Reserved), [2] = Record(created, LedgerRecord.Paid) };
        var orders = new[] { Order(1, OrderStatus.PendingPayment, created, quantity: 1), Order(2, OrderStatus.Paid, created, quantity: 1) };

        // The counts say nothing is held and the stock is far off: neither is believed, nothing is restocked.
        var check = Check(ledger, orders, [], Counters(10, 10, reserved: 0, sold: 0) with { Counted = false });

        Assert.Empty(check.Ledger.Findings);
        Assert.False(check.StockOff);
        Assert.Equal(new RedisLedgerSide(10, 1, 1), check.Ledger.Redis);
    }

    [Fact]
    public void AFindingStandsOnlyWhenAFreshReadOfTheOrderConfirmsIt()
    {
        var created = Now - Old;
        var record = Record(created, LedgerRecord.Reserved);
        var page = new LedgerPage(Now, new Dictionary<long, LedgerRecord> { [1] = record, [2] = record, [3] = record }, new HashSet<long>(), new Dictionary<long, long>());
        var cancelledLongAgo = Order(3, OrderStatus.Cancelled, created, quantity: 1);
        var first = LedgerComparison.JudgeLedgerPage(page, new Dictionary<long, DbOrder> { [3] = cancelledLongAgo }, Grace);
        Assert.Equal([DriftKind.LostEvent, DriftKind.LostEvent, DriftKind.UnreleasedCancel], first.Select(v => v.Kind));

        // Read again: order 1 is in MySQL now (a slow Persister), order 2 still nowhere, order 3 released meanwhile.
        var again = new LedgerPage(Now, new Dictionary<long, LedgerRecord>
        {
            [1] = record,
            [2] = record,
            [3] = record with { State = LedgerRecord.Cancelled },
        }, new HashSet<long>(), new Dictionary<long, long>());
        var fresh = LedgerComparison.JudgeLedgerPage(again, new Dictionary<long, DbOrder>
        {
            [1] = Order(1, OrderStatus.PendingPayment, created, quantity: 1),
            [3] = cancelledLongAgo,
        }, Grace);

        var confirmed = LedgerComparison.Confirm(first, fresh);

        Assert.Equal([null, DriftKind.LostEvent, null], confirmed.Select(v => v.Kind));
    }

    [Fact]
    public void AnEntryTheScanReturnsTwiceCountsOnce()
    {
        var created = Now - Old;
        var page = new LedgerPage(Now, new Dictionary<long, LedgerRecord> { [1] = Record(created, LedgerRecord.Reserved) }, new HashSet<long>(), new Dictionary<long, long>());
        var walk = new LedgerWalk { Complete = true };

        walk.Add(LedgerComparison.JudgeLedgerPage(page, new Dictionary<long, DbOrder>(), Grace));
        walk.Add(LedgerComparison.JudgeLedgerPage(page, new Dictionary<long, DbOrder>(), Grace));
        var check = LedgerComparison.Compare("c", 1, 10, Counters(10, 9, reserved: 1, sold: 0), new DbLedgerSide(0, 0, 0), walk);

        Assert.Equal(new DriftFinding(DriftKind.LostEvent, 1, 1), Assert.Single(check.Ledger.Findings));
        Assert.Equal([1L], check.Lost);
    }

    [Fact]
    public void ASkuRedisDoesNotHoldReportsItsLiveOrdersAndNeedsWarmUpNotRepair()
    {
        var orders = new[] { Order(1, OrderStatus.PendingPayment, Now - Old), Order(2, OrderStatus.Cancelled, Now - Old) };
        var walk = new LedgerWalk { Complete = true };
        walk.AddUnknown(LedgerComparison.UnknownToRedis(orders, new HashSet<long>(), Now, Margin));

        var check = LedgerComparison.Compare("c", 1, 10, SkuCounters.NotWarmed(Now), new DbLedgerSide(2, 0, 2), walk);

        Assert.False(check.Ledger.Warmed);
        Assert.Equal(DriftKind.UnknownToRedis, Assert.Single(check.Ledger.Findings).Kind);
        Assert.False(check.NeedsRepair);
    }

    /// <summary>The whole comparison as the reconciler makes it, with the ledger as one page and the counts taken from it.</summary>
    private static SkuCheck Check(Dictionary<long, LedgerRecord> ledger, IReadOnlyList<DbOrder> orders, long[] pending, SkuCounters? counters = null)
    {
        var reserved = ledger.Values.Where(r => r.State == LedgerRecord.Reserved).Sum(r => (long)r.Quantity);
        var sold = ledger.Values.Where(r => r.State == LedgerRecord.Paid).Sum(r => (long)r.Quantity);
        counters ??= Counters(10, 10 - reserved - sold, reserved, sold);
        var db = new DbLedgerSide(
            orders.Where(o => o.Status == OrderStatus.PendingPayment).Sum(o => (long)o.Quantity),
            orders.Where(o => o.Status == OrderStatus.Paid).Sum(o => (long)o.Quantity),
            orders.Where(o => o.Status == OrderStatus.Cancelled).Sum(o => (long)o.Quantity));
        var walk = new LedgerWalk { Complete = true };
        var page = new LedgerPage(Now, ledger, pending.ToHashSet(), new Dictionary<long, long>());
        walk.Add(LedgerComparison.JudgeLedgerPage(page, orders.ToDictionary(o => o.OrderNo), Grace));
        walk.AddUnknown(LedgerComparison.UnknownToRedis(orders, ledger.Keys.ToHashSet(), Now, Margin));
        return LedgerComparison.Compare("c", 1, 10, counters, db, walk);
    }

    private static SkuCounters Counters(long total, long available, long reserved, long sold)
        => new(Now, true, total, available, reserved, sold, true, 1, 0);

    private static LedgerRecord Record(DateTimeOffset created, char state)
        => new(7, 1, 1_000, created.ToUnixTimeMilliseconds(), created.AddMinutes(15).ToUnixTimeMilliseconds(), state);

    private static DbOrder Order(long orderNo, string status, DateTimeOffset created, int quantity = 2)
        => new(orderNo, 7, quantity, 20m, status, created.AddMinutes(15).UtcDateTime, created.UtcDateTime, created.UtcDateTime, "k");
}
