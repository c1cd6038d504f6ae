using FlashSale.Engine.Orders;
using FlashSale.Engine.Redis;

namespace FlashSale.Engine.Reconciliation;

/// <summary>An order of a SKU as MySQL holds it, for the comparison.</summary>
public sealed record DbOrder(
    long OrderNo, long UserId, int Quantity, decimal Amount, string Status,
    DateTime PaymentDeadline, DateTime CreatedAt, DateTime UpdatedAt, string IdempotencyKey);

/// <summary>What one comparison found: the ledger to show, and what a repair has to act on.</summary>
public sealed class SkuCheck
{
    public required SkuLedger Ledger { get; init; }

    /// <summary>Live orders MySQL holds that the Redis ledger does not know.</summary>
    public IReadOnlyList<DbOrder> UnknownToRedis { get; init; } = [];

    /// <summary>Reservations Redis decided whose event never reached MySQL.</summary>
    public IReadOnlyList<long> Lost { get; init; } = [];

    /// <summary>Orders cancelled in MySQL whose units Redis still holds.</summary>
    public IReadOnlyList<(long OrderNo, int Quantity)> Unreleased { get; init; } = [];

    /// <summary>Paid orders Redis still labels reserved.</summary>
    public IReadOnlyList<long> PaidLabels { get; init; } = [];

    public bool StockOff { get; init; }

    public bool OutboxHasEntries { get; init; }

    public long LiveDbUnits { get; init; }

    /// <summary>Something a repair can act on; a SKU Redis does not hold at all needs its warm-up first.</summary>
    public bool NeedsRepair => Ledger.Warmed && (Ledger.Drift > 0 || PaidLabels.Count > 0);
}

/// <summary>
/// Compares a SKU's Redis side (one <see cref="LedgerSnapshot"/>) with its orders in MySQL. Pure: everything
/// that may legitimately be on its way between the two (a young reservation not yet persisted, an entry
/// still in the outbox, a fresh cancel whose release is running, an order decided after the snapshot)
/// counts as in flight, never as drift.
/// </summary>
public static class LedgerComparison
{
    /// <param name="grace">How long a reservation (or a cancel) may be on its way before its absence is drift.</param>
    /// <param name="margin">A MySQL order younger than this at the snapshot may have been decided after it.</param>
    public static SkuCheck Compare(
        string campaignId, long skuId, int stock, LedgerSnapshot snapshot, IReadOnlyList<DbOrder> orders, TimeSpan grace, TimeSpan margin)
        => snapshot.Warmed ? CompareWarmed(campaignId, skuId, stock, snapshot, orders, grace, margin) : NotWarmed(campaignId, skuId, stock, orders, snapshot.At);

    private static SkuCheck NotWarmed(string campaignId, long skuId, int stock, IReadOnlyList<DbOrder> orders, DateTimeOffset now)
    {
        // Redis knows nothing of the SKU: its live orders are unknown to Redis, but there is no stock to take
        // them out of. Loading the SKU (warm-up) and the next round settle it.
        var findings = orders.Where(o => o.Status != OrderStatus.Cancelled)
            .Select(o => new DriftFinding(DriftKind.UnknownToRedis, o.OrderNo, o.Quantity)).ToList();
        return new SkuCheck
        {
            Ledger = new SkuLedger(campaignId, skuId, false, stock, new RedisLedgerSide(0, 0, 0), DbSide(orders), 0,
                findings.Sum(f => (long)f.Units), now, findings),
        };
    }

    private static SkuCheck CompareWarmed(
        string campaignId, long skuId, int stock, LedgerSnapshot snapshot, IReadOnlyList<DbOrder> orders, TimeSpan grace, TimeSpan margin)
    {
        var now = snapshot.At;
        var byOrder = orders.ToDictionary(o => o.OrderNo);
        var findings = new List<DriftFinding>();
        long inFlight = 0, reserved = 0, sold = 0;
        var unknown = new List<DbOrder>();
        var lost = new List<long>();
        var unreleased = new List<(long, int)>();
        var paidLabels = new List<long>();

        foreach (var (orderNo, record) in snapshot.Ledger)
        {
            if (record.State == LedgerRecord.Reserved)
            {
                reserved += record.Quantity;
            }
            else if (record.State == LedgerRecord.Paid)
            {
                sold += record.Quantity;
            }

            byOrder.TryGetValue(orderNo, out var order);
            switch (record.State, order?.Status)
            {
                case (LedgerRecord.Cancelled, OrderStatus.PendingPayment or OrderStatus.Paid):
                    findings.Add(new DriftFinding(DriftKind.Conflict, orderNo, record.Quantity));
                    break;
                case (LedgerRecord.Cancelled, _):
                    break;
                case (_, null):
                    // On its way: still in the outbox, or decided (or re-published) within the grace period, so in Kafka or in a batch.
                    var sent = Math.Max(record.CreatedMs, snapshot.RepublishedAtMs.GetValueOrDefault(orderNo));
                    if (snapshot.InOutbox.Contains(orderNo) || now - DateTimeOffset.FromUnixTimeMilliseconds(sent) < grace)
                    {
                        inFlight += record.Quantity;
                    }
                    else
                    {
                        findings.Add(new DriftFinding(DriftKind.LostEvent, orderNo, record.Quantity));
                        lost.Add(orderNo);
                    }
                    break;
                case (LedgerRecord.Paid, OrderStatus.Cancelled):
                    findings.Add(new DriftFinding(DriftKind.Conflict, orderNo, record.Quantity));
                    break;
                case (LedgerRecord.Reserved, OrderStatus.Cancelled):
                    if (now - Utc(order!.UpdatedAt) < grace)
                    {
                        inFlight += record.Quantity;
                    }
                    else
                    {
                        findings.Add(new DriftFinding(DriftKind.UnreleasedCancel, orderNo, record.Quantity));
                        unreleased.Add((orderNo, record.Quantity));
                    }
                    break;
                case (LedgerRecord.Reserved, OrderStatus.Paid):
                    paidLabels.Add(orderNo);
                    break;
            }
        }

        foreach (var order in orders)
        {
            if (order.Status != OrderStatus.Cancelled && !snapshot.Ledger.ContainsKey(order.OrderNo) && Utc(order.CreatedAt) < now - margin)
            {
                findings.Add(new DriftFinding(DriftKind.UnknownToRedis, order.OrderNo, order.Quantity));
                unknown.Add(order);
            }
        }

        var (total, available) = (snapshot.Total, snapshot.Available);
        var held = reserved + sold;
        var stockOff = false;
        if (held > total)
        {
            findings.Add(new DriftFinding(DriftKind.Oversold, 0, (int)(held - total)));
            stockOff = available > 0;
        }
        else if (available != total - held)
        {
            findings.Add(new DriftFinding(DriftKind.StockMismatch, 0, (int)Math.Abs(available - (total - held))));
            stockOff = true;
        }

        return new SkuCheck
        {
            Ledger = new SkuLedger(campaignId, skuId, true, stock, new RedisLedgerSide(available, reserved, sold), DbSide(orders),
                inFlight, findings.Sum(f => (long)f.Units), now, findings),
            StockOff = stockOff,
            OutboxHasEntries = snapshot.InOutbox.Count > 0,
            LiveDbUnits = orders.Where(o => o.Status != OrderStatus.Cancelled).Sum(o => (long)o.Quantity),
            UnknownToRedis = unknown,
            Lost = lost,
            Unreleased = unreleased,
            PaidLabels = paidLabels,
        };
    }

    private static DbLedgerSide DbSide(IReadOnlyList<DbOrder> orders) => new(
        orders.Where(o => o.Status == OrderStatus.PendingPayment).Sum(o => (long)o.Quantity),
        orders.Where(o => o.Status == OrderStatus.Paid).Sum(o => (long)o.Quantity),
        orders.Where(o => o.Status == OrderStatus.Cancelled).Sum(o => (long)o.Quantity));

    private static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));
}
