using FlashSale.Contracts;
using FlashSale.Engine.Campaigns;
using FlashSale.LoadTests.EngineApi;

namespace FlashSale.LoadTests.Scenarios;

/// <summary>
/// A catalogue sale: one campaign with many SKUs, each with its own stock and a one-unit limit per
/// buyer. Each SKU is its own Redis hash tag, so this is the load that spreads over slots (and, on a
/// cluster, over shards) instead of queueing behind one hot key. The SKU of a request is drawn from
/// a Zipf distribution: with skew 0 every SKU is as popular as any other; with skew 1 SKU k gets
/// weight 1/k, so SKU 1 sells out first while the tail still has stock, as in a real sale.
/// </summary>
public sealed class ManySkusScenario : IScenario
{
    public const string ScenarioName = "many-skus";
    public const int DefaultSkus = 20;
    public const int DefaultStockPerSku = 250;
    public const int DefaultBuyers = 100_000;
    public const int PaymentWindowSeconds = 900;

    private const ulong SkuDrawSalt = 0x5EED_5C05_0000_0001;

    private readonly int _skus;
    private readonly int _stockPerSku;
    private readonly int _buyers;
    private readonly double _skew;
    private readonly ulong _seed;
    private readonly double[] _cumulative;
    private readonly long[] _requestsPerSku;
    private string? _campaignId;

    public ManySkusScenario(int skus, int stockPerSku, int buyers, double skew, ulong seed)
    {
        _skus = skus;
        _stockPerSku = stockPerSku;
        _buyers = buyers;
        _skew = skew;
        _seed = seed;
        _requestsPerSku = new long[skus];
        _cumulative = new double[skus];
        var total = 0.0;
        for (var k = 0; k < skus; k++)
        {
            total += Weight(k);
            _cumulative[k] = total;
        }
        for (var k = 0; k < skus; k++)
        {
            _cumulative[k] /= total;
        }
    }

    public string Name => ScenarioName;

    public IEnumerable<long> Buyers => Enumerable.Range(1, _buyers).Select(i => (long)i);

    public async Task<SaleUnderTest> SetUpAsync(SaleSetup setup, CancellationToken cancellationToken)
    {
        // Prices differ so that a mixed-up SKU would show in an order's amount, not only in its sku id.
        var skus = Enumerable.Range(1, _skus)
            .Select(k => new CampaignSkuBody(k, 1m + (k % 100), _stockPerSku, PerUserLimit: 1))
            .ToList();
        await setup.Engine.CreateCampaignAsync(setup.CampaignId, setup.StartsAt, setup.EndsAt, PaymentWindowSeconds, skus, cancellationToken);
        await setup.Engine.WarmUpAsync(setup.CampaignId, cancellationToken);
        _campaignId = setup.CampaignId;
        return new SaleUnderTest(setup.CampaignId, [.. skus.Select(s => new SkuUnderTest(s.SkuId, s.Stock))]);
    }

    public ReserveRequest Next(long sequence)
    {
        var campaignId = _campaignId ?? throw new InvalidOperationException("SetUpAsync has not run.");
        var draw = SplitMix64.Hash(_seed ^ (ulong)sequence);
        var buyer = 1 + (long)(draw % (ulong)_buyers);
        // A second, independent hash for the SKU, so a buyer id does not predict the SKU.
        var uniform = SplitMix64.Uniform(draw ^ SkuDrawSalt);
        var index = Array.BinarySearch(_cumulative, uniform);
        index = Math.Min(index >= 0 ? index : ~index, _skus - 1);
        return new ReserveRequest(campaignId, index + 1, buyer, SingleSkuSale.IdempotencyKey(campaignId, sequence), 1);
    }

    public void Observe(ReserveRequest request, ReserveResult result, ILoadContext context) => Interlocked.Increment(ref _requestsPerSku[request.SkuId - 1]);

    public IReadOnlyList<string> Notes
    {
        get
        {
            var requests = new long[_skus];
            for (var k = 0; k < _skus; k++)
            {
                requests[k] = Interlocked.Read(ref _requestsPerSku[k]);
            }
            var total = Math.Max(1, requests.Sum());
            var top = Math.Max(1, _skus / 10);
            var distribution = _skew == 0
                ? Invariant($"SKU draw: uniform over {_skus:N0} SKUs ({100.0 / _skus:0.##}% each)")
                : Invariant($"SKU draw: Zipf, skew {_skew:0.##}, over {_skus:N0} SKUs: SKU 1 expects {100 * _cumulative[0]:0.#}% of requests, ")
                    + Invariant($"the top {top:N0} {100 * _cumulative[top - 1]:0.#}%, the last {100 * Weight(_skus - 1) / TotalWeight():0.##}%");
            return
            [
                distribution + ".",
                Invariant($"Requests per SKU: most {requests.Max():N0} (SKU {Array.IndexOf(requests, requests.Max()) + 1}), ")
                    + Invariant($"least {requests.Min():N0} (SKU {Array.IndexOf(requests, requests.Min()) + 1}); ")
                    + Invariant($"SKU 1 took {100.0 * requests[0] / total:0.#}% of them."),
            ];
        }
    }

    private double Weight(int index) => 1.0 / Math.Pow(index + 1, _skew);

    private double TotalWeight() => Enumerable.Range(0, _skus).Sum(Weight);

}
