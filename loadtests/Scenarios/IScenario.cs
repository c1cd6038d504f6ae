using FlashSale.LoadTests.EngineApi;
using FlashSale.LoadTests.Measurement;
using FlashSale.LoadTests.Reporting;
using FlashSale.LoadTests.Verification;

namespace FlashSale.LoadTests.Scenarios;

/// <summary>
/// A kind of sale to rehearse. It creates and warms its own campaign, then turns a request
/// sequence number into the next reservation. <see cref="Next"/> is called concurrently from many
/// threads, so it must be thread-safe and should not allocate more than the request itself.
/// <para>
/// What happens to an order after its reservation (the provider's payment callback, the buyer's
/// cancel) is a follow-up: <see cref="Observe(ReserveRequest, ReserveResult, ILoadContext)"/> sees the
/// 201 and schedules it through <see cref="ILoadContext.FollowUp"/>; the load model sends it at its due
/// time next to the reservations, and <see cref="Observe(FollowUpAction, FollowUpResult, ILoadContext)"/>
/// sees its answer (and may schedule the next one, e.g. a retry). A run is one or more
/// <see cref="Waves"/> of load; after each, <see cref="SettleAsync"/> may wait for the engine to
/// catch up (a payment window to pass) before the next wave or the checks.
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

    /// <summary>How long each wave of reservations lasts; one wave of --duration unless the scenario needs more.</summary>
    IReadOnlyList<TimeSpan> Waves(TimeSpan duration) => [duration];

    /// <summary>Every answered reservation, from many threads at once; scenarios with promises about single requests keep what they need.</summary>
    void Observe(ReserveRequest request, ReserveResult result, ILoadContext context)
    {
    }

    /// <summary>Every answered follow-up, from many threads at once.</summary>
    void Observe(FollowUpAction action, FollowUpResult result, ILoadContext context)
    {
    }

    /// <summary>
    /// After each wave, once its reservations and follow-ups are answered. The last call (<see cref="SettleContext.IsLast"/>)
    /// also gets the reservations that replaying the unknown attempts revealed.
    /// </summary>
    Task SettleAsync(SettleContext context, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Units per SKU that went back on sale during the run (cancelled orders), known after the last
    /// <see cref="SettleAsync"/>: the common checks compare stock with the units still held, reserved less released.
    /// </summary>
    IReadOnlyDictionary<long, long> ReleasedUnits => EmptyUnits;

    /// <summary>
    /// The scenario's own invariants, checked after the run next to the common ones.
    /// <paramref name="orders"/> are the run's reservations: 201s plus unknown attempts that turned out reserved.
    /// </summary>
    IReadOnlyList<InvariantResult> Verify(SaleUnderTest sale, IReadOnlyList<CreatedOrder> orders, Resolution resolution) => [];

    /// <summary>Facts about the run the report should state (how often keys were replayed, how traffic spread).</summary>
    IReadOnlyList<string> Notes => [];

    /// <summary>Tables (and charts) of the scenario's own, placed in the report after the outcome table.</summary>
    IReadOnlyList<ReportSection> Sections => [];

    /// <summary>
    /// A scenario that drives its own traffic (the waiting room: buyers join, poll and reserve when admitted) instead of
    /// --rate or --concurrency; it sends its reservations through <see cref="Load.LoadRun.ExecuteReservationAsync(ReserveRequest, long)"/>
    /// so they are measured and checked like any other. Null: the options' model.
    /// </summary>
    Load.ILoadModel? Model => null;

    private static readonly IReadOnlyDictionary<long, long> EmptyUnits = new Dictionary<long, long>();
}

/// <summary>What a scenario sees of the running load: the wave it is in, and where to put follow-ups.</summary>
public interface ILoadContext
{
    /// <summary>0 for the first wave.</summary>
    int Wave { get; }

    /// <summary>Sends <paramref name="action"/> after <paramref name="delay"/>; its latency counts from then.</summary>
    void FollowUp(FollowUpAction action, TimeSpan delay);
}

/// <summary>
/// After a wave: <paramref name="Observer"/> reads over a connection pool of its own; <paramref name="Resolution"/>
/// (the last settle only) says which unknown attempts turned out reserved.
/// </summary>
public sealed record SettleContext(int Wave, bool IsLast, Resolution? Resolution, EngineClient Observer, TextWriter Progress);

/// <summary>What a scenario gets to create its campaign with: a fresh id, a window that is open now, the admin API.</summary>
/// <param name="Observer">For reads outside the load (a sampler, settling): its own connections, never the load's.</param>
public sealed record SaleSetup(string CampaignId, DateTime StartsAt, DateTime EndsAt, EngineClient Engine, EngineClient Observer);

public sealed record SkuUnderTest(long SkuId, int Stock);

public sealed record SaleUnderTest(string CampaignId, IReadOnlyList<SkuUnderTest> Skus);

/// <summary>One reservation attempt: who buys what, under which Idempotency-Key (and, in a waiting room, with which admission token).</summary>
/// <param name="CouponId">One of the campaign's coupon pools the reservation takes a coupon from (null: none).</param>
public sealed record ReserveRequest(string CampaignId, long SkuId, long BuyerId, string IdempotencyKey, int Quantity, string? AdmissionToken = null,
    string? CouponId = null);
