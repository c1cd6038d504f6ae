using FlashSale.Contracts;
using FlashSale.Engine.Reconciliation;
using FlashSale.Engine.Redis;

namespace FlashSale.Tests.Unit;

/// <summary>The reconciler's comparison of a SKU's Redis snapshot with its MySQL orders, without services.</summary>
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

    /// <summary>One order on both sides: what Redis's ledger says, what MySQL says (null: no row), its age, whether it is still in the outbox.</summary>
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
        RedisSide redis, string? db, Age age, bool inOutbox, string? expectedKind, long expectedDrift, long expectedInFlight)
    {
        const long orderNo = 42;
        var created = Now - (age == Age.Old ? Old : Young);
        var ledger = new Dictionary<long, LedgerRecord>();
        var held = 0;
        if (redis != RedisSide.Absent)
        {
            var state = redis switch { RedisSide.Paid => LedgerRecord.Paid, RedisSide.Cancelled => LedgerRecord.Cancelled, _ => LedgerRecord.Reserved };
            ledger[orderNo] = new LedgerRecord(7, 2, 2_000, created.ToUnixTimeMilliseconds(), created.AddMinutes(15).ToUnixTimeMilliseconds(), state);
            held = state == LedgerRecord.Cancelled ? 0 : 2;
        }
        var orders = db is null ? [] : new[] { Order(orderNo, db, created) };

        var check = LedgerComparison.Compare("c", 1, 10, Snapshot(ledger, available: 10 - held, inOutbox ? [orderNo] : []), orders, Grace, Margin);

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

        var check = LedgerComparison.Compare("c", 1, 10, Snapshot(ledger, available: 9, []), [Order(1, OrderStatus.Paid, created, quantity: 1)], Grace, Margin);

        Assert.Equal(0, check.Ledger.Drift);
        Assert.Equal([1L], check.PaidLabels);
        Assert.True(check.NeedsRepair);
    }

    [Fact]
    public void AnOrderDecidedAfterTheSnapshotIsNotUnknownToRedis()
    {
        var check = LedgerComparison.Compare("c", 1, 10, Snapshot([], available: 10, []), [Order(1, OrderStatus.PendingPayment, Now.AddMilliseconds(-200))], Grace, Margin);

        Assert.Empty(check.Ledger.Findings);
    }

    [Theory]
    [InlineData(10, 3, 7, null, 0)]
    [InlineData(10, 3, 5, DriftKind.StockMismatch, 2)]
    [InlineData(10, 3, 9, DriftKind.StockMismatch, 2)]
    [InlineData(2, 3, 0, DriftKind.Oversold, 1)]
    public void StockIsTotalMinusTheUnitsTheLedgerHolds(int total, int heldUnits, int available, string? kind, int units)
    {
        var created = Now - Old;
        var ledger = Enumerable.Range(1, heldUnits).ToDictionary(i => (long)i, _ => Record(created, LedgerRecord.Reserved));
        var orders = ledger.Keys.Select(o => Order(o, OrderStatus.PendingPayment, created, quantity: 1)).ToList();

        var check = LedgerComparison.Compare("c", 1, total, Snapshot(ledger, available, [], total), orders, Grace, Margin);

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
    }

    [Fact]
    public void ASkuRedisDoesNotHoldReportsItsLiveOrdersAndNeedsWarmUpNotRepair()
    {
        var snapshot = new LedgerSnapshot(Now, false, 0, 0, new Dictionary<long, LedgerRecord>(), new HashSet<long>(), new Dictionary<long, long>());
        var orders = new[] { Order(1, OrderStatus.PendingPayment, Now - Old), Order(2, OrderStatus.Cancelled, Now - Old) };

        var check = LedgerComparison.Compare("c", 1, 10, snapshot, orders, Grace, Margin);

        Assert.False(check.Ledger.Warmed);
        Assert.Equal(DriftKind.UnknownToRedis, Assert.Single(check.Ledger.Findings).Kind);
        Assert.False(check.NeedsRepair);
    }

    private static LedgerRecord Record(DateTimeOffset created, char state)
        => new(7, 1, 1_000, created.ToUnixTimeMilliseconds(), created.AddMinutes(15).ToUnixTimeMilliseconds(), state);

    private static DbOrder Order(long orderNo, string status, DateTimeOffset created, int quantity = 2)
        => new(orderNo, 7, quantity, 20m, status, created.AddMinutes(15).UtcDateTime, created.UtcDateTime, created.UtcDateTime, "k");

    private static LedgerSnapshot Snapshot(Dictionary<long, LedgerRecord> ledger, long available, long[] inOutbox, long total = 10)
        => new(Now, true, total, available, ledger, inOutbox.ToHashSet(), new Dictionary<long, long>());
}
