using System.Collections.Concurrent;
using System.Diagnostics;
using FlashSale.Contracts;
using FlashSale.LoadTests.EngineApi;
using FlashSale.LoadTests.Measurement;
using FlashSale.LoadTests.Scenarios;
using FlashSale.LoadTests.Verification;

namespace FlashSale.LoadTests.Pipeline;

/// <summary>What the end-of-run drain found: how many successes reached MySQL, and whether each is the order that was promised.</summary>
public sealed record DrainReport(
    int Successes,
    int Checked,
    int WithoutOrderNo,
    int Persisted,
    int StillInRedis,
    int NeverFound,
    int Unreadable,
    TimeSpan StartedAfterRun,
    TimeSpan Waited,
    TimeSpan Timeout,
    IReadOnlyList<string> Mismatches,
    IReadOnlyDictionary<long, long> PersistedUnitsBySku,
    long PersistedCancelledUnits,
    int BuyersWithOrders,
    int BuyersListed,
    int BuyersNotListable,
    IReadOnlyList<string> ListProblems)
{
    public bool Sampled => Checked < Successes - WithoutOrderNo;

    public int NotPersisted => StillInRedis + NeverFound + Unreadable;

    /// <summary>From the run's last answer to the drain's last read.</summary>
    public TimeSpan SinceRunEnd => StartedAfterRun + Waited;

    public string Scope => Sampled
        ? Invariant($"a random {Checked:N0} of the {Successes - WithoutOrderNo:N0} successes (--drain-max)")
        : Invariant($"all {Checked:N0} successes");

    public IReadOnlyList<InvariantResult> ToInvariants(SaleUnderTest sale)
    {
        var results = new List<InvariantResult>
        {
            new("pipeline drained: every success is in MySQL", NotPersisted == 0, NotPersisted == 0
                ? Invariant($"{Scope} read back persisted, the last {SinceRunEnd.TotalSeconds:0.0} s after the run's last answer")
                : Invariant($"{SinceRunEnd.TotalSeconds:0.0} s after the run (drain waited {Waited.TotalSeconds:0.0} s, --drain-timeout {Timeout.TotalSeconds:0.###} s), {NotPersisted:N0} of {Scope} were not persisted: ")
                    + Invariant($"{StillInRedis:N0} still only in Redis, {NeverFound:N0} not found at all, {Unreadable:N0} unreadable")),
        };

        var listed = BuyersNotListable > 0
            ? Invariant($"; {BuyersNotListable:N0} buyers not listed (an attempt of theirs is still unknown)")
            : "";
        var problems = Mismatches.Count + ListProblems.Count;
        results.Add(new InvariantResult("one order per success", problems == 0 && NeverFound == 0, problems == 0 && NeverFound == 0
            ? Invariant($"each of the {Persisted + StillInRedis:N0} orders read is its buyer's, with the SKU and quantity reserved; ")
                + Invariant($"the order lists of {BuyersListed:N0} of {BuyersWithOrders:N0} buyers hold exactly their known orders of this campaign{listed}")
            : Invariant($"{Mismatches.Count:N0} orders differ from their reservation, {NeverFound:N0} were not found, {ListProblems.Count:N0} buyer lists disagree: ")
                + string.Join("; ", Mismatches.Concat(ListProblems).Take(4))));

        var over = sale.Skus
            .Select(s => (Sku: s, Units: PersistedUnitsBySku.GetValueOrDefault(s.SkuId)))
            .Where(x => x.Units > x.Sku.Stock)
            .ToList();
        var totalUnits = PersistedUnitsBySku.Values.Sum();
        var scope = (Sampled ? " (among the orders read back)" : "")
            + (PersistedCancelledUnits > 0 ? Invariant($"; {PersistedCancelledUnits:N0} units of cancelled orders left out, they went back on sale") : "");
        var name = sale.Skus.Count == 1 ? Invariant($"persisted orders ≤ stock (SKU {sale.Skus[0].SkuId})") : "persisted orders ≤ stock";
        results.Add(new InvariantResult(name, over.Count == 0, over.Count == 0
            ? sale.Skus.Count == 1
                ? Invariant($"{totalUnits:N0} units in persisted live orders, stock {sale.Skus[0].Stock:N0}{scope}")
                : Invariant($"{totalUnits:N0} units in persisted live orders over {sale.Skus.Count:N0} SKUs, none above its stock{scope}")
            : string.Join("; ", over.Take(5).Select(x => Invariant($"SKU {x.Sku.SkuId}: {x.Units:N0} units persisted, stock {x.Sku.Stock:N0}")))));
        return results;
    }
}

/// <summary>
/// After the run, waits until the durable pipeline has caught up: reads every success back through
/// <c>GET /api/v1/orders/{orderNo}</c> (with its buyer's token, so a 200 also proves whose it is)
/// until it is persisted, then checks it is the order that was promised. Then lists the buyers'
/// orders, to catch orders nobody was told about. Above <c>--drain-max</c> successes a seeded random
/// sample is read instead, and the report says so.
/// </summary>
public static class PipelineDrain
{
    public const int Parallelism = 8;

    /// <summary>Buyers whose whole order list is read; each list read costs the engine a MySQL query and a Redis read per recent order.</summary>
    public const int MaxListedBuyers = 1_000;

    private const int PageSize = 100;
    private const int MaxExamples = 5;
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan RoundPause = TimeSpan.FromMilliseconds(250);

    /// <summary>Orders of this campaign cannot be older than the campaign; the slack covers an Ingress clock a little behind ours.</summary>
    private static readonly TimeSpan ClockSlack = TimeSpan.FromMinutes(5);

    public static async Task<DrainReport> RunAsync(
        EngineClient client, SaleUnderTest sale, DateTime saleCreatedUtc, long runEnded, IReadOnlyList<CreatedOrder> successes,
        IReadOnlyList<ReserveRequest> stillUnknown, int max, TimeSpan timeout, ulong seed, TextWriter progress, CancellationToken cancellationToken)
    {
        var withNumbers = successes.Where(o => !string.IsNullOrEmpty(o.OrderNo)).ToList();
        List<CreatedOrder> toCheck = withNumbers.Count <= max
            ? withNumbers
            : [.. withNumbers.Select((o, i) => (Order: o, Rank: SplitMix64.Hash(seed ^ (ulong)i))).OrderBy(x => x.Rank).Take(max).Select(x => x.Order)];
        progress.WriteLine(Invariant($"Drain: reading back {(toCheck.Count == withNumbers.Count ? "all" : "a random")} {toCheck.Count:N0} of {withNumbers.Count:N0} successes until MySQL has them (at most {timeout.TotalSeconds:0.###} s)."));

        var started = Stopwatch.GetTimestamp();
        var startedAfterRun = Stopwatch.GetElapsedTime(runEnded, started);
        var last = new ConcurrentDictionary<CreatedOrder, OrderLookupStatus>();
        var mismatches = new ConcurrentQueue<string>();
        var units = new ConcurrentDictionary<long, long>();
        long cancelledUnits = 0;
        var persisted = 0;
        var pending = toCheck;

        using (var stopProgress = new CancellationTokenSource())
        {
            var printer = PrintProgressAsync(() => (persisted, pending.Count, last), toCheck.Count, started, progress, stopProgress.Token);
            while (pending.Count > 0)
            {
                var next = new ConcurrentQueue<CreatedOrder>();
                await Parallel.ForEachAsync(pending, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken },
                    async (order, ct) =>
                    {
                        var lookup = await client.GetOrderAsync(order.BuyerId, order.OrderNo!, ReadTimeout, ct);
                        if (lookup is { Status: OrderLookupStatus.Found, Order.Persisted: true })
                        {
                            var mismatch = Compare(sale, order, lookup.Order);
                            if (mismatch is not null)
                            {
                                mismatches.Enqueue(mismatch);
                            }
                            // A cancelled order holds nothing: its units went back on sale (and may be in another order now).
                            if (lookup.Order.Status == OrderStatus.Cancelled)
                            {
                                Interlocked.Add(ref cancelledUnits, lookup.Order.Quantity);
                            }
                            else
                            {
                                units.AddOrUpdate(lookup.Order.SkuId, lookup.Order.Quantity, (_, u) => u + lookup.Order.Quantity);
                            }
                            Interlocked.Increment(ref persisted);
                            last.TryRemove(order, out _);
                            return;
                        }
                        last[order] = lookup.Status;
                        next.Enqueue(order);
                    });
                pending = [.. next];
                if (pending.Count == 0 || Stopwatch.GetElapsedTime(started) >= timeout)
                {
                    break;
                }
                await Task.Delay(RoundPause, cancellationToken);
            }
            await stopProgress.CancelAsync();
            await printer;
        }
        var waited = Stopwatch.GetElapsedTime(started);
        progress.WriteLine(Invariant($"Drain: {persisted:N0} of {toCheck.Count:N0} persisted after {waited.TotalSeconds:0.0} s."));

        var states = pending.Select(o => last.GetValueOrDefault(o, OrderLookupStatus.NotFound)).ToList();
        var (buyersWithOrders, listed, notListable, listProblems) = await CheckListsAsync(
            client, sale, saleCreatedUtc, successes, toCheck, stillUnknown, seed, progress, cancellationToken);

        return new DrainReport(
            successes.Count, toCheck.Count, successes.Count - withNumbers.Count, persisted,
            states.Count(s => s == OrderLookupStatus.Found), states.Count(s => s == OrderLookupStatus.NotFound), states.Count(s => s == OrderLookupStatus.Failed),
            startedAfterRun, waited, timeout, [.. mismatches], new Dictionary<long, long>(units), cancelledUnits, buyersWithOrders, listed, notListable, listProblems);
    }

    private static string? Compare(SaleUnderTest sale, CreatedOrder expected, OrderResponse actual)
    {
        if (actual.OrderNo == expected.OrderNo && actual.CampaignId == sale.CampaignId && actual.SkuId == expected.SkuId && actual.Quantity == expected.Quantity)
        {
            return null;
        }
        return Invariant($"order {expected.OrderNo} of buyer {expected.BuyerId}: reserved SKU {expected.SkuId} × {expected.Quantity} in {sale.CampaignId}, ")
            + Invariant($"read back {actual.OrderNo}: SKU {actual.SkuId} × {actual.Quantity} in {actual.CampaignId}");
    }

    /// <summary>
    /// A buyer's list of this campaign's orders must be exactly the orders the run knows they got: an
    /// extra one is an order no buyer was told about (a 201 lost and made twice, a replay that created).
    /// Buyers with an attempt still unknown are skipped: they may rightly hold one more.
    /// </summary>
    private static async Task<(int BuyersWithOrders, int Listed, int NotListable, IReadOnlyList<string> Problems)> CheckListsAsync(
        EngineClient client, SaleUnderTest sale, DateTime saleCreatedUtc, IReadOnlyList<CreatedOrder> successes, IReadOnlyList<CreatedOrder> checkedOrders,
        IReadOnlyList<ReserveRequest> stillUnknown, ulong seed, TextWriter progress, CancellationToken cancellationToken)
    {
        var known = successes
            .Where(o => !string.IsNullOrEmpty(o.OrderNo))
            .GroupBy(o => o.BuyerId)
            .ToDictionary(g => g.Key, g => g.Select(o => o.OrderNo!).ToHashSet(StringComparer.Ordinal));
        var unknownBuyers = stillUnknown.Select(r => r.BuyerId).ToHashSet();
        var candidates = checkedOrders.Select(o => o.BuyerId).Distinct().ToList();
        var listable = candidates.Where(b => !unknownBuyers.Contains(b)).ToList();
        var buyers = listable.Count <= MaxListedBuyers
            ? listable
            : [.. listable.OrderBy(b => SplitMix64.Hash(seed ^ (ulong)b)).Take(MaxListedBuyers)];
        progress.WriteLine(Invariant($"Drain: listing the orders of {buyers.Count:N0} buyers{(buyers.Count < listable.Count ? Invariant($" (a random {MaxListedBuyers:N0} of {listable.Count:N0})") : "")}."));

        var problems = new ConcurrentQueue<string>();
        var oldest = saleCreatedUtc - ClockSlack;
        await Parallel.ForEachAsync(buyers, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken },
            async (buyer, ct) =>
            {
                var listedOrders = new HashSet<string>(StringComparer.Ordinal);
                string? cursor = null;
                do
                {
                    var (page, failure) = await client.ListOrdersAsync(buyer, cursor, PageSize, ReadTimeout, ct);
                    if (page is null)
                    {
                        problems.Enqueue(Invariant($"buyer {buyer}: listing failed ({failure})"));
                        return;
                    }
                    foreach (var item in page.Items.Where(i => i.CampaignId == sale.CampaignId))
                    {
                        listedOrders.Add(item.OrderNo);
                    }
                    // Newest first: once a page reaches back before the campaign existed, the rest is older still.
                    cursor = page.Items.Count > 0 && page.Items[^1].CreatedAt < oldest ? null : page.NextCursor;
                }
                while (cursor is not null);

                var expected = known.GetValueOrDefault(buyer) ?? [];
                var extra = listedOrders.Except(expected).ToList();
                var missing = expected.Except(listedOrders).ToList();
                if (extra.Count > 0)
                {
                    problems.Enqueue(Invariant($"buyer {buyer} has {extra.Count} order(s) of this campaign nobody was told about: {string.Join(", ", extra.Take(3))}"));
                }
                if (missing.Count > 0)
                {
                    problems.Enqueue(Invariant($"buyer {buyer}'s list lacks {string.Join(", ", missing.Take(3))}"));
                }
            });
        return (candidates.Count, buyers.Count, candidates.Count - listable.Count, [.. problems]);
    }

    private static async Task PrintProgressAsync(
        Func<(int Persisted, int Pending, ConcurrentDictionary<CreatedOrder, OrderLookupStatus> Last)> state, int total, long started,
        TextWriter progress, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                var (persisted, _, last) = state();
                var states = last.Values.ToList();
                progress.WriteLine(Invariant($"[drain {Stopwatch.GetElapsedTime(started).TotalSeconds,5:0.0}s] persisted {persisted:N0} of {total:N0} | ")
                    + Invariant($"last read not yet persisted: in Redis only {states.Count(s => s == OrderLookupStatus.Found):N0}, ")
                    + Invariant($"not found {states.Count(s => s == OrderLookupStatus.NotFound):N0}, read failed {states.Count(s => s == OrderLookupStatus.Failed):N0}"));
            }
        }
        catch (OperationCanceledException)
        {
            // The drain is over; the caller prints the final line.
        }
    }
}
