using System.Collections.Concurrent;
using FlashSale.Contracts;
using FlashSale.LoadTests.EngineApi;
using FlashSale.LoadTests.Measurement;
using FlashSale.LoadTests.Scenarios;

namespace FlashSale.LoadTests.Verification;

public sealed record InvariantResult(string Name, bool Passed, string Detail)
{
    public override string ToString() => $"{(Passed ? "PASS" : "FAIL")}  {Name}: {Detail}";
}

/// <summary>
/// The sale's promises, checked from the outside after the run: never more units held than
/// stocked, one order number per reservation, and Redis's stock agreeing with the 201s
/// the buyers were given, less the units of orders that were cancelled (they went back on sale). A sale of a few SKUs gets a line per SKU; a catalogue gets one line per
/// promise, naming the SKUs that broke it.
/// </summary>
public static class Invariants
{
    /// <summary>Up to this many SKUs each get their own lines; beyond, a line per promise.</summary>
    public const int MaxSkusListed = 3;

    private const int SkuReadParallelism = 8;
    private const int MaxExamples = 5;

    public static async Task<IReadOnlyList<InvariantResult>> CheckAsync(
        EngineClient engine, SaleUnderTest sale, IReadOnlyList<CreatedOrder> orders, IReadOnlyList<ReserveRequest> stillUnknown,
        IReadOnlyDictionary<long, long> released, CancellationToken cancellationToken)
    {
        // Units held = reserved less released: a cancelled order's units are back on sale and may be sold again.
        var unitsBySku = orders.GroupBy(o => o.SkuId).ToDictionary(g => g.Key, g => g.Sum(o => (long)o.Quantity) - released.GetValueOrDefault(g.Key));
        var unknownBySku = stillUnknown.GroupBy(r => r.SkuId).ToDictionary(g => g.Key, g => g.Sum(r => (long)r.Quantity));
        var views = new ConcurrentDictionary<long, SkuStockView>();
        await Parallel.ForEachAsync(sale.Skus, new ParallelOptions { MaxDegreeOfParallelism = SkuReadParallelism, CancellationToken = cancellationToken },
            async (sku, ct) => views[sku.SkuId] = await engine.GetSkuAsync(sale.CampaignId, sku.SkuId, ct));

        var oversell = sale.Skus.Select(sku =>
        {
            var units = unitsBySku.GetValueOrDefault(sku.SkuId);
            return new InvariantResult(
                $"no oversell (SKU {sku.SkuId})",
                units <= sku.Stock,
                released.GetValueOrDefault(sku.SkuId) is var back && back > 0
                    ? Invariant($"{units:N0} units held ({units + back:N0} reserved, {back:N0} of them released), stock {sku.Stock:N0}")
                    : Invariant($"{units:N0} units reserved, stock {sku.Stock:N0}"));
        }).ToList();

        var conservation = sale.Skus.Select(sku =>
        {
            var units = unitsBySku.GetValueOrDefault(sku.SkuId);
            var unknownUnits = unknownBySku.GetValueOrDefault(sku.SkuId);
            var view = views[sku.SkuId];
            var expected = sku.Stock - units;
            var back = released.GetValueOrDefault(sku.SkuId);
            // An attempt whose fate is still unknown may or may not hold a unit: then only a range can be checked.
            var passed = view.Total == sku.Stock && view.Available <= expected && view.Available >= expected - unknownUnits;
            var held = back > 0 ? Invariant($"{units:N0} held ({units + back:N0} reserved − {back:N0} released)") : Invariant($"{units:N0}");
            var detail = unknownUnits == 0
                ? Invariant($"available {view.Available:N0}, expected {sku.Stock:N0} − {held} = {expected:N0} (total {view.Total:N0}, state {view.State})")
                : Invariant($"available {view.Available:N0}, expected {expected - unknownUnits:N0}..{expected:N0}: {sku.Stock:N0} − {held} − up to {unknownUnits:N0} unknown (total {view.Total:N0}, state {view.State})");
            return new InvariantResult($"stock conservation (SKU {sku.SkuId})", passed, detail);
        }).ToList();

        if (sale.Skus.Count <= MaxSkusListed)
        {
            return [.. oversell, DistinctOrderNumbers(orders), .. conservation];
        }

        var reserved = unitsBySku.Values.Sum();
        var stock = sale.Skus.Sum(s => (long)s.Stock);
        var soldOut = sale.Skus.Count(s => unitsBySku.GetValueOrDefault(s.SkuId) >= s.Stock);
        return
        [
            Collapse("no oversell", oversell,
                Invariant($"{reserved:N0} units held of {stock:N0} over {sale.Skus.Count:N0} SKUs, none above its stock; {soldOut:N0} SKUs sold out")),
            DistinctOrderNumbers(orders),
            Collapse("stock conservation", conservation,
                Invariant($"every SKU's available stock is its total less the units held ({sale.Skus.Count:N0} SKUs read back)")),
        ];
    }

    /// <summary>One line for a promise over many SKUs: passed with a summary, or failed naming the first SKUs that broke it.</summary>
    private static InvariantResult Collapse(string name, List<InvariantResult> perSku, string summary)
    {
        var failed = perSku.Where(r => !r.Passed).ToList();
        var title = Invariant($"{name} ({perSku.Count:N0} SKUs)");
        return failed.Count == 0
            ? new InvariantResult(title, true, summary)
            : new InvariantResult(title, false, Invariant($"{failed.Count:N0} SKUs fail: ")
                + string.Join("; ", failed.Take(MaxExamples).Select(r => $"{r.Name}: {r.Detail}")));
    }

    private static InvariantResult DistinctOrderNumbers(IReadOnlyList<CreatedOrder> orders)
    {
        var missing = orders.Count(o => string.IsNullOrEmpty(o.OrderNo));
        var duplicates = orders
            .Where(o => !string.IsNullOrEmpty(o.OrderNo))
            .GroupBy(o => o.OrderNo, StringComparer.Ordinal)
            .Where(g => g.Count() > 1)
            .ToList();
        if (missing == 0 && duplicates.Count == 0)
        {
            return new InvariantResult("distinct order numbers", true, Invariant($"{orders.Count:N0} reservations, {orders.Count:N0} distinct order numbers"));
        }
        var examples = string.Join(", ", duplicates.Take(3).Select(g => Invariant($"{g.Key} ×{g.Count()}")));
        return new InvariantResult("distinct order numbers", false,
            Invariant($"{duplicates.Count:N0} order numbers given more than once ({examples}); {missing:N0} reservations without an order number"));
    }

    /// <summary>
    /// The run's reservations: every 201, plus the unknown attempts a replay showed reserved. A replay
    /// that names an order already among the 201s (its key was sent again during the run and one of
    /// the later attempts got the 201) is the same order, not a second one.
    /// </summary>
    public static IReadOnlyList<CreatedOrder> Reservations(IEnumerable<CreatedOrder> created, Resolution resolution)
    {
        var all = created.ToList();
        var seen = all.Where(o => o.OrderNo is not null).Select(o => o.OrderNo!).ToHashSet(StringComparer.Ordinal);
        foreach (var order in resolution.Reserved)
        {
            if (order.OrderNo is null || seen.Add(order.OrderNo))
            {
                all.Add(order);
            }
        }
        return all;
    }
}
