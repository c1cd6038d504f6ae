using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using FlashSale.Contracts;
using FlashSale.LoadTests.EngineApi;
using FlashSale.LoadTests.Scenarios;

namespace FlashSale.LoadTests.Verification;

/// <summary>
/// The engine's own account of each SKU after the pipeline drained, from the admin ledger endpoint:
/// Redis (available, reserved, sold), MySQL (pending, paid, cancelled) and the reservations still in
/// flight between them. Once nothing is in flight the two sides must agree: drift 0.
/// </summary>
public static class LedgerCheck
{
    /// <summary>Reservations can still be on their way to MySQL for a moment after the drain read them persisted (other SKUs' batches).</summary>
    public static readonly TimeSpan InFlightWait = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(250);
    private const int Parallelism = 8;
    private const int MaxExamples = 5;

    public static async Task<IReadOnlyList<InvariantResult>> CheckAsync(EngineClient observer, SaleUnderTest sale, CancellationToken cancellationToken)
    {
        var results = new ConcurrentDictionary<long, InvariantResult>();
        await Parallel.ForEachAsync(sale.Skus, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken },
            async (sku, ct) => results[sku.SkuId] = await CheckSkuAsync(observer, sale.CampaignId, sku, ct));
        var perSku = sale.Skus.Select(s => results[s.SkuId]).ToList();
        if (perSku.Count <= Invariants.MaxSkusListed)
        {
            return perSku;
        }
        var failed = perSku.Where(r => !r.Passed).ToList();
        var name = Invariant($"ledger: no drift, nothing in flight ({perSku.Count:N0} SKUs)");
        return
        [
            failed.Count == 0
                ? new InvariantResult(name, true, Invariant($"every SKU's ledger shows drift 0 and nothing in flight ({perSku.Count:N0} SKUs read)"))
                : new InvariantResult(name, false, Invariant($"{failed.Count:N0} SKUs fail: ") + string.Join("; ", failed.Take(MaxExamples).Select(r => $"{r.Name}: {r.Detail}"))),
        ];
    }

    private static async Task<InvariantResult> CheckSkuAsync(EngineClient observer, string campaignId, SkuUnderTest sku, CancellationToken cancellationToken)
    {
        var name = Invariant($"ledger: no drift, nothing in flight (SKU {sku.SkuId})");
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            SkuLedgerView? ledger;
            int status;
            string body;
            try
            {
                (ledger, status, body) = await observer.GetLedgerAsync(campaignId, sku.SkuId, cancellationToken);
            }
            catch (Exception ex) when (ex is HttpRequestException || (ex is TaskCanceledException && !cancellationToken.IsCancellationRequested))
            {
                return new InvariantResult(name, false, "could not read the ledger: " + ex.Message);
            }
            if (ledger is null)
            {
                // An unmapped route gets the framework's bare 404 (a problem body without a detail, at most);
                // the endpoint itself says which campaign or SKU it does not know.
                var reason = status == 404 && !HasDetail(body)
                    ? "ledger endpoint not available (404)"
                    : Invariant($"the ledger endpoint answered {status}: {Shorten(body)}");
                return new InvariantResult(name, false, reason);
            }
            var waited = Stopwatch.GetElapsedTime(started);
            if (ledger.InFlight > 0 && waited < InFlightWait)
            {
                await Task.Delay(Poll, cancellationToken);
                continue;
            }
            var passed = ledger.Drift == 0 && ledger.InFlight == 0 && ledger.Total == sku.Stock;
            var detail = Invariant($"drift {ledger.Drift:N0}, in flight {ledger.InFlight:N0}; total {ledger.Total:N0} (stock {sku.Stock:N0}); ")
                + Invariant($"Redis available {ledger.Redis.Available:N0}, reserved {ledger.Redis.Reserved:N0}, sold {ledger.Redis.Sold:N0}; ")
                + Invariant($"MySQL pending {ledger.Db.Pending:N0}, paid {ledger.Db.Paid:N0}, cancelled {ledger.Db.Cancelled:N0}")
                + (ledger.InFlight > 0 ? Invariant($"; still in flight after {waited.TotalSeconds:0.0} s") : "")
                + (ledger.Findings is { Count: > 0 } findings
                    ? "; findings: " + string.Join(", ", findings.Take(MaxExamples).Select(f => Invariant($"{f.Kind} {f.OrderNo ?? "(SKU)"} ×{f.Units}")))
                    : "");
            return new InvariantResult(name, passed, detail);
        }
    }

    private static bool HasDetail(string body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            return json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("detail", out _);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static string Shorten(string body) => body.Length > 200 ? body[..200] + "…" : body;

}
