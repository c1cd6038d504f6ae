using FlashSale.LoadTests.EngineApi;

namespace FlashSale.LoadTests.Scenarios;

/// <summary>
/// A kind of sale to rehearse. It creates and warms its own campaign, then turns a request
/// sequence number into the next request. <see cref="Next"/> is called concurrently from many
/// threads, so it must be thread-safe and should not allocate more than the request itself.
/// </summary>
public interface IScenario
{
    string Name { get; }

    /// <summary>Creates and warms the campaign; returns what the invariant checks compare against.</summary>
    Task<SaleUnderTest> SetUpAsync(SaleSetup setup, CancellationToken cancellationToken);

    /// <summary>Every buyer id <see cref="Next"/> can return, so tokens are minted before the clock starts.</summary>
    IEnumerable<long> Buyers { get; }

    ReserveRequest Next(long sequence);
}

/// <summary>What a scenario gets to create its campaign with: a fresh id, a window that is open now, the admin API.</summary>
public sealed record SaleSetup(string CampaignId, DateTime StartsAt, DateTime EndsAt, EngineClient Engine);

public sealed record SkuUnderTest(long SkuId, int Stock);

public sealed record SaleUnderTest(string CampaignId, IReadOnlyList<SkuUnderTest> Skus);

/// <summary>One reservation attempt: who buys what, under which Idempotency-Key.</summary>
public sealed record ReserveRequest(string CampaignId, long SkuId, long BuyerId, string IdempotencyKey, int Quantity);
