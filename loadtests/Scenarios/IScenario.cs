using FlashSale.LoadTests.EngineApi;
using FlashSale.LoadTests.Measurement;
using FlashSale.LoadTests.Verification;

namespace FlashSale.LoadTests.Scenarios;

/// <summary>
/// A kind of sale to rehearse. It creates and warms its own campaign, then turns a request
/// sequence number into the next request. <see cref="Next"/> is called concurrently from many
/// threads, so it must be thread-safe and should not allocate more than the request itself.
/// <para>
/// Every request is a reservation for now. A sale with payments and timeouts will need a second
/// kind of request (pay, or let the deadline pass): it fits here as a different request type from
/// <see cref="Next"/>, with <see cref="Observe"/> feeding the scenario the orders it may then pay.
/// </para>
/// </summary>
public interface IScenario
{
    string Name { get; }

    /// <summary>Creates and warms the campaign; returns what the invariant checks compare against.</summary>
    Task<SaleUnderTest> SetUpAsync(SaleSetup setup, CancellationToken cancellationToken);

    /// <summary>Every buyer id <see cref="Next"/> can return, so tokens are minted before the clock starts.</summary>
    IEnumerable<long> Buyers { get; }

    ReserveRequest Next(long sequence);

    /// <summary>Every answered request, from many threads at once; scenarios with promises about single requests keep what they need.</summary>
    void Observe(ReserveRequest request, ReserveResult result)
    {
    }

    /// <summary>
    /// The scenario's own invariants, checked after the run next to the common ones.
    /// <paramref name="orders"/> are the run's reservations: 201s plus unknown attempts that turned out reserved.
    /// </summary>
    IReadOnlyList<InvariantResult> Verify(SaleUnderTest sale, IReadOnlyList<CreatedOrder> orders, Resolution resolution) => [];

    /// <summary>Facts about the run the report should state (how often keys were replayed, how traffic spread).</summary>
    IReadOnlyList<string> Notes => [];
}

/// <summary>What a scenario gets to create its campaign with: a fresh id, a window that is open now, the admin API.</summary>
public sealed record SaleSetup(string CampaignId, DateTime StartsAt, DateTime EndsAt, EngineClient Engine);

public sealed record SkuUnderTest(long SkuId, int Stock);

public sealed record SaleUnderTest(string CampaignId, IReadOnlyList<SkuUnderTest> Skus);

/// <summary>One reservation attempt: who buys what, under which Idempotency-Key.</summary>
public sealed record ReserveRequest(string CampaignId, long SkuId, long BuyerId, string IdempotencyKey, int Quantity);
