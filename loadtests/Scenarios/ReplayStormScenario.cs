using System.Collections.Frozen;
using System.Globalization;
using FlashSale.LoadTests.EngineApi;
using FlashSale.LoadTests.Measurement;
using FlashSale.LoadTests.Verification;

namespace FlashSale.LoadTests.Scenarios;

/// <summary>
/// Clients that retry: a pool of buyers, each owning a fixed set of Idempotency-Keys that it sends
/// again and again (every request picks one of all the keys at random). The first attempt of a key
/// decides it; every later one must be a replay: 200 with <c>Idempotent-Replayed: true</c> and the
/// same order, or, for a key that lost the race for stock, a refusal again. Stock is half the keys
/// by default, so the storm goes on past the sell-out: replays of keys that hold an order must then
/// still get through the Ingress's sold-out cache to Redis, the others are refused from memory.
/// </summary>
public sealed class ReplayStormScenario : IScenario
{
    public const string ScenarioName = "replay-storm";
    public const int DefaultBuyers = 500;
    public const int DefaultKeysPerBuyer = 4;

    private const int MaxExamples = 3;

    private readonly int _buyers;
    private readonly int _keysPerBuyer;
    private readonly int _stock;
    private readonly ulong _seed;
    private string? _campaignId;
    private KeyState[] _keys = [];
    private FrozenDictionary<string, KeyState> _byKey = FrozenDictionary<string, KeyState>.Empty;
    private long _unmarkedReplays;

    public ReplayStormScenario(int buyers, int keysPerBuyer, int? stock, ulong seed)
    {
        _buyers = buyers;
        _keysPerBuyer = keysPerBuyer;
        // Half the keys can win: the other half keep being refused while the winners keep replaying.
        _stock = stock ?? Math.Max(1, (int)Math.Min(int.MaxValue, (long)buyers * keysPerBuyer / 2));
        _seed = seed;
    }

    public string Name => ScenarioName;

    public IEnumerable<long> Buyers => Enumerable.Range(1, _buyers).Select(i => (long)i);

    public async Task<SaleUnderTest> SetUpAsync(SaleSetup setup, CancellationToken cancellationToken)
    {
        // The per-buyer limit is the buyer's number of keys: a refusal is then always about stock,
        // never about the limit, so a refused key that also holds an order is a broken promise.
        var sale = await SingleSkuSale.SetUpAsync(setup, _stock, _keysPerBuyer, cancellationToken);
        _campaignId = sale.CampaignId;
        _keys = [.. Enumerable.Range(0, _buyers * _keysPerBuyer).Select(i => new KeyState(
            1 + (i / _keysPerBuyer),
            string.Create(CultureInfo.InvariantCulture, $"{sale.CampaignId}-b{1 + (i / _keysPerBuyer)}-k{i % _keysPerBuyer}")))];
        _byKey = _keys.ToFrozenDictionary(k => k.Key, StringComparer.Ordinal);
        return sale;
    }

    public ReserveRequest Next(long sequence)
    {
        var campaignId = _campaignId ?? throw new InvalidOperationException("SetUpAsync has not run.");
        var key = _keys[(int)(SplitMix64.Hash(_seed ^ (ulong)sequence) % (ulong)_keys.Length)];
        return new ReserveRequest(campaignId, SingleSkuSale.SkuId, key.BuyerId, key.Key, 1);
    }

    public void Observe(ReserveRequest request, ReserveResult result, ILoadContext context)
    {
        if (!_byKey.TryGetValue(request.IdempotencyKey, out var key))
        {
            return;
        }
        key.Record(result.Outcome, result.OrderNo);
        if (result.Outcome == Outcome.Replayed && result.Detail is not null)
        {
            Interlocked.Increment(ref _unmarkedReplays);
        }
    }

    public IReadOnlyList<InvariantResult> Verify(SaleUnderTest sale, IReadOnlyList<CreatedOrder> orders, Resolution resolution)
    {
        // An attempt the run could not see decided (a timeout) was replayed afterwards: its answer belongs to its key too.
        foreach (var reserved in resolution.Reserved)
        {
            if (_byKey.TryGetValue(reserved.IdempotencyKey, out var key))
            {
                key.Record(Outcome.Replayed, reserved.OrderNo);
            }
        }

        var holding = _keys.Where(k => k.OrderNo is not null).ToList();
        var replays = _keys.Sum(k => k.Replays);
        var results = new List<InvariantResult>();

        var split = _keys.Where(k => k.DistinctOrders > 1).ToList();
        results.Add(new InvariantResult("replays return the first order", split.Count == 0, split.Count == 0
            ? Invariant($"{replays:N0} replays (200) and {_keys.Sum(k => k.Creations):N0} creations (201) named their key's first order")
            : Invariant($"{split.Count:N0} keys were answered with more than one order number, e.g. {Examples(split)}")));

        var twice = _keys.Where(k => k.Creations > 1).ToList();
        results.Add(new InvariantResult("at most one 201 per key", twice.Count == 0, twice.Count == 0
            ? Invariant($"{_keys.Count(k => k.Creations == 1):N0} keys created an order once; every other success was a replay")
            : Invariant($"{twice.Count:N0} keys got 201 more than once, e.g. {Examples(twice)}")));

        var refusedOwners = holding.Where(k => k.Refusals > 0).ToList();
        results.Add(new InvariantResult("a key holding an order is never refused", refusedOwners.Count == 0, refusedOwners.Count == 0
            ? Invariant($"{holding.Count:N0} keys hold an order; none of their {holding.Sum(k => k.Replays + k.Creations):N0} answers was a refusal")
            : Invariant($"{refusedOwners.Count:N0} keys that hold an order were also refused (sold-out/purchase-limit), e.g. {Examples(refusedOwners)}")));

        var stock = sale.Skus.Sum(s => (long)s.Stock);
        results.Add(new InvariantResult("successful keys ≤ stock", holding.Count <= stock,
            Invariant($"{holding.Count:N0} of {_keys.Length:N0} keys hold an order, stock {stock:N0}")));

        var unmarked = Interlocked.Read(ref _unmarkedReplays);
        results.Add(new InvariantResult("every replay says Idempotent-Replayed", unmarked == 0, unmarked == 0
            ? Invariant($"all {replays:N0} 200s carried {EngineClient.ReplayedHeader}: true")
            : Invariant($"{unmarked:N0} 200s came without {EngineClient.ReplayedHeader}: true")));
        return results;
    }

    public IReadOnlyList<string> Notes
    {
        get
        {
            var sent = _keys.Sum(k => k.Answers);
            var untouched = _keys.Count(k => k.Answers == 0);
            return
            [
                Invariant($"{_keys.Length:N0} Idempotency-Keys ({_buyers:N0} buyers × {_keysPerBuyer:N0}), per-buyer limit {_keysPerBuyer:N0}, stock {_stock:N0}; ")
                    + Invariant($"each key was answered {(double)sent / Math.Max(1, _keys.Length):0.#} times on average")
                    + (untouched > 0 ? Invariant($", {untouched:N0} keys never drawn.") : "."),
            ];
        }
    }

    private static string Examples(IEnumerable<KeyState> keys) => string.Join("; ", keys.Take(MaxExamples).Select(k => k.Describe()));

    /// <summary>Everything the run saw for one Idempotency-Key; answers arrive from many threads.</summary>
    private sealed class KeyState(long buyerId, string key)
    {
        private readonly Lock _lock = new();
        private readonly HashSet<string> _orders = new(StringComparer.Ordinal);

        public long BuyerId => buyerId;

        public string Key => key;

        public string? OrderNo { get; private set; }

        public int Creations { get; private set; }

        public int Replays { get; private set; }

        public int Refusals { get; private set; }

        public int Answers { get; private set; }

        public int DistinctOrders
        {
            get
            {
                lock (_lock)
                {
                    return _orders.Count;
                }
            }
        }

        public void Record(Outcome outcome, string? orderNo)
        {
            lock (_lock)
            {
                Answers++;
                switch (outcome)
                {
                    case Outcome.Created or Outcome.Replayed:
                        if (outcome == Outcome.Created)
                        {
                            Creations++;
                        }
                        else
                        {
                            Replays++;
                        }
                        if (orderNo is not null)
                        {
                            OrderNo ??= orderNo;
                            _orders.Add(orderNo);
                        }
                        break;
                    case Outcome.SoldOut or Outcome.PurchaseLimit:
                        Refusals++;
                        break;
                }
            }
        }

        public string Describe()
        {
            lock (_lock)
            {
                return Invariant($"{key} (buyer {buyerId}): {Creations} × 201, {Replays} × 200, {Refusals} refusals, orders {string.Join("/", _orders)}");
            }
        }
    }
}
