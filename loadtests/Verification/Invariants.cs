using System.Globalization;
using FlashSale.LoadTests.EngineApi;
using FlashSale.LoadTests.Measurement;
using FlashSale.LoadTests.Scenarios;

namespace FlashSale.LoadTests.Verification;

public sealed record InvariantResult(string Name, bool Passed, string Detail)
{
    public override string ToString() => $"{(Passed ? "PASS" : "FAIL")}  {Name}: {Detail}";
}

/// <summary>
/// The sale's promises, checked from the outside after the run: never more units sold than
/// stocked, one order number per reservation, and Redis's stock agreeing with the 201s
/// the buyers were given.
/// </summary>
public static class Invariants
{
    public static async Task<IReadOnlyList<InvariantResult>> CheckAsync(
        EngineClient engine, SaleUnderTest sale, IReadOnlyList<CreatedOrder> orders, IReadOnlyList<ReserveRequest> stillUnknown,
        CancellationToken cancellationToken)
    {
        var results = new List<InvariantResult>();
        foreach (var sku in sale.Skus)
        {
            var units = orders.Where(o => o.SkuId == sku.SkuId).Sum(o => (long)o.Quantity);
            results.Add(new InvariantResult(
                $"no oversell (SKU {sku.SkuId})",
                units <= sku.Stock,
                Invariant($"{units:N0} units reserved, stock {sku.Stock:N0}")));
        }

        results.Add(DistinctOrderNumbers(orders));

        foreach (var sku in sale.Skus)
        {
            var units = orders.Where(o => o.SkuId == sku.SkuId).Sum(o => (long)o.Quantity);
            var unknownUnits = stillUnknown.Where(r => r.SkuId == sku.SkuId).Sum(r => (long)r.Quantity);
            var view = await engine.GetSkuAsync(sale.CampaignId, sku.SkuId, cancellationToken);
            var expected = sku.Stock - units;
            // An attempt whose fate is still unknown may or may not hold a unit: then only a range can be checked.
            var passed = view.Total == sku.Stock && view.Available <= expected && view.Available >= expected - unknownUnits;
            var detail = unknownUnits == 0
                ? Invariant($"available {view.Available:N0}, expected {sku.Stock:N0} − {units:N0} = {expected:N0} (total {view.Total:N0}, state {view.State})")
                : Invariant($"available {view.Available:N0}, expected {expected - unknownUnits:N0}..{expected:N0}: {sku.Stock:N0} − {units:N0} reserved − up to {unknownUnits:N0} unknown (total {view.Total:N0}, state {view.State})");
            results.Add(new InvariantResult($"stock conservation (SKU {sku.SkuId})", passed, detail));
        }
        return results;
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

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
