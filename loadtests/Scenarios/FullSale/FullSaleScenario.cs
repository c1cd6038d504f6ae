using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using FlashSale.Contracts;
using FlashSale.Engine.Campaigns;
using FlashSale.LoadTests.EngineApi;
using FlashSale.LoadTests.Measurement;
using FlashSale.LoadTests.Reporting;
using FlashSale.LoadTests.Verification;

namespace FlashSale.LoadTests.Scenarios.FullSale;

/// <summary>What a full sale is made of; the defaults are in <see cref="FullSaleScenario"/>.</summary>
public sealed record FullSaleSettings(
    int Stock,
    int Buyers,
    double PayShare,
    double CancelShare,
    double DuplicateShare,
    int PaymentWindowSeconds,
    TimeSpan ThinkTime,
    TimeSpan? SecondWave,
    TimeSpan SettleTimeout,
    ulong Seed,
    double CouponShare = FullSaleScenario.DefaultCouponShare,
    int? Coupons = null)
{
    /// <summary>The coupon pool's size: <see cref="Coupons"/>, or a quarter of the stock.</summary>
    public int CouponPool => Coupons ?? Math.Max(1, Stock / 4);
}

/// <summary>Where a wave left the sale once it had settled.</summary>
public sealed record WaveSummary(int Wave, int Orders, int Units, int Paid, int CancelledByBuyer, int TimedOut, int NotFinal, TimeSpan Settle, int? AvailableAfter);

/// <summary>
/// A whole sale, past the reservation: one SKU with a short payment window. Of the orders created, a
/// share is paid (a signed provider callback with the order's amount, some sent twice as a provider
/// retries), a share is cancelled by the buyer, and the rest are left for the payment window to close.
/// Buyers keep coming during the wave, so units that buyers give back are sold again at once.
/// <para>
/// The run has two waves. After the first, the harness waits until every pending order's deadline has
/// passed and the Persister's timeout scan has cancelled it; then a second wave of buyers comes for the
/// units that came back, which must all be sold again. Its buyers pay or cancel (none is left to time
/// out: that would only make the run wait another payment window for what the first wave exercised).
/// After the second wave the checks want every order Paid or Cancelled, paid units within stock, one
/// recorded payment per paid order, the units of every cancelled order back on sale, and held units
/// (pending + paid) within stock at every moment.
/// </para>
/// </summary>
public sealed class FullSaleScenario : IScenario, IAsyncDisposable
{
    public const string ScenarioName = "full-sale";
    public const int DefaultStock = 200;
    public const int DefaultBuyers = 100_000;
    public const double DefaultPayShare = 0.5;
    public const double DefaultCancelShare = 0.2;
    public const double DefaultDuplicateShare = 0.25;
    public const int DefaultPaymentWindowSeconds = CampaignValidator.MinPaymentWindowSeconds;
    public static readonly TimeSpan DefaultThinkTime = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan DefaultSettleTimeout = TimeSpan.FromSeconds(60);

    public const long SkuId = 1;
    public const decimal Price = 9.99m;

    /// <summary>The sale's coupon pool: a share of the reservations ask for one (<see cref="FullSaleSettings.CouponShare"/>).</summary>
    public const string CouponId = "lt-coupon";
    public const decimal Discount = 2.00m;
    public const decimal MinSpend = 5.00m;
    public const double DefaultCouponShare = 0.3;

    /// <summary>A follow-up answered 503 or with an unknown outcome is sent again at most this often in all.</summary>
    public const int MaxAttempts = 10;

    /// <summary>The provider's retry of a callback it got no answer to, this long after the first was answered.</summary>
    private static readonly TimeSpan DuplicateDelay = TimeSpan.FromMilliseconds(200);

    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan SettlePoll = TimeSpan.FromMilliseconds(500);

    /// <summary>How long a cancelled order's units may take to show in the SKU's stock after MySQL says cancelled.</summary>
    private static readonly TimeSpan StockSettleTimeout = TimeSpan.FromSeconds(15);

    private const int ReadParallelism = 8;
    private const int PaymentListLimit = 500;
    private const int MaxExamples = 3;
    private const ulong DuplicateSalt = 0xD0B1_E5A1_7000_0001;
    private const ulong ThinkSalt = 0x7411_4C00_0000_0002;
    private const ulong CouponSalt = 0xC0DB_0000_0000_0003;

    /// <summary>How long a cancelled order's coupon may take to show in its pool after MySQL says cancelled (as for units).</summary>
    private static readonly TimeSpan CouponSettleTimeout = TimeSpan.FromSeconds(15);

    private readonly FullSaleSettings _settings;
    private readonly double _fateOffset;
    private readonly ConcurrentDictionary<string, SaleOrder> _orders = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<SaleOrder> _inOrder = new();
    private readonly List<WaveSummary> _waves = [];
    private string? _campaignId;
    private StockTimeline? _timeline;
    private long _created;
    private IReadOnlyList<PaymentAdminView>? _applied;
    private IReadOnlyList<PaymentAdminView>? _refundRequired;
    private string? _paymentsFailure;
    private int? _availableAfterSale;
    private CouponLedgerView? _couponsAfterSale;

    public FullSaleScenario(FullSaleSettings settings)
    {
        _settings = settings;
        // The fates follow a golden-ratio sequence: even a sale of twenty orders gets close to the asked shares.
        _fateOffset = SplitMix64.Uniform(settings.Seed);
    }

    public string Name => ScenarioName;

    public IEnumerable<long> Buyers => Enumerable.Range(1, _settings.Buyers).Select(i => (long)i);

    public IReadOnlyList<TimeSpan> Waves(TimeSpan duration) => [duration, _settings.SecondWave ?? duration];

    public async Task<SaleUnderTest> SetUpAsync(SaleSetup setup, CancellationToken cancellationToken)
    {
        await setup.Engine.CreateCampaignAsync(
            setup.CampaignId, setup.StartsAt, setup.EndsAt, _settings.PaymentWindowSeconds,
            [new CampaignSkuBody(SkuId, Price, _settings.Stock, PerUserLimit: 1)], cancellationToken,
            coupons: _settings.CouponShare > 0 ? [new CouponBody(CouponId, Discount, MinSpend, _settings.CouponPool, PerUserLimit: 1)] : null);
        await setup.Engine.WarmUpAsync(setup.CampaignId, cancellationToken);
        _campaignId = setup.CampaignId;
        _timeline = new StockTimeline(setup.Observer, setup.CampaignId, SkuId);
        _timeline.Start();
        return new SaleUnderTest(setup.CampaignId, [new SkuUnderTest(SkuId, _settings.Stock)]);
    }

    public ReserveRequest Next(long sequence)
    {
        var campaignId = _campaignId ?? throw new InvalidOperationException("SetUpAsync has not run.");
        var buyer = 1 + (long)(SplitMix64.Hash(_settings.Seed ^ (ulong)sequence) % (ulong)_settings.Buyers);
        // A share of the attempts take the sale's coupon: 20 % off the price, one per buyer, while the pool lasts.
        var coupon = SplitMix64.Uniform(_settings.Seed ^ CouponSalt ^ (ulong)sequence) < _settings.CouponShare ? CouponId : null;
        return new ReserveRequest(campaignId, SkuId, buyer, SingleSkuSale.IdempotencyKey(campaignId, sequence), 1, CouponId: coupon);
    }

    public void Observe(ReserveRequest request, ReserveResult result, ILoadContext context)
    {
        if (result.Outcome != Outcome.Created || result.OrderNo is null)
        {
            return;
        }
        var k = Interlocked.Increment(ref _created) - 1;
        var fate = DrawFate(k, context.Wave);
        var duplicate = fate == Fate.Pay && Uniform(k, DuplicateSalt) < _settings.DuplicateShare;
        var order = new SaleOrder(result.OrderNo, request.BuyerId, request.SkuId, request.Quantity, context.Wave, fate, duplicate)
        {
            // A couponed request's 201 always carries its coupon: one that cannot be used is a 409 instead.
            Coupon = request.CouponId is not null,
        };
        _orders[order.OrderNo] = order;
        _inOrder.Enqueue(order);

        // A buyer takes between a quarter of the think time and all of it to pay or give up.
        var delay = _settings.ThinkTime * (0.25 + (0.75 * Uniform(k, ThinkSalt)));
        switch (fate)
        {
            case Fate.Pay:
                context.FollowUp(new PayOrder(request.CampaignId, request.SkuId, request.BuyerId, order.OrderNo,
                    Amount(request.Quantity, order.Coupon), TransactionId(order.OrderNo), Duplicate: false, Attempt: 1), delay);
                break;
            case Fate.Cancel:
                // Read before scheduling: the cancel is sent at its due time or later, never earlier than this.
                order.CancelNotBeforeUtc = DateTime.UtcNow + delay;
                context.FollowUp(new CancelOrder(request.CampaignId, request.SkuId, request.BuyerId, order.OrderNo, Attempt: 1), delay);
                break;
        }
    }

    public void Observe(FollowUpAction action, FollowUpResult result, ILoadContext context)
    {
        if (!_orders.TryGetValue(action.OrderNo, out var order))
        {
            return;
        }
        if (result.Outcome == FollowUpOutcome.NotYetPersisted || result.Outcome.IsUnknown())
        {
            // Both callbacks and cancels are idempotent (by providerTxnId, by order state): sending again is safe.
            if (action.Attempt >= MaxAttempts)
            {
                order.Problem ??= Invariant($"{action.Kind.Label()} given up after {action.Attempt} attempts (last answer {result.Outcome.Label()})");
                return;
            }
            var wait = result.RetryAfter is { } after && after > TimeSpan.Zero ? after : RetryDelay;
            context.FollowUp(action with { Attempt = action.Attempt + 1 }, wait);
            return;
        }

        switch (action)
        {
            case PayOrder { Duplicate: false } pay:
                order.Payment = result.Outcome;
                order.PaymentOrderStatus = result.OrderStatus;
                if (result.Outcome != FollowUpOutcome.Applied)
                {
                    order.Problem ??= Invariant($"the payment callback was answered {result.Outcome.Label()}, not applied");
                }
                else if (order.DuplicateCallback)
                {
                    context.FollowUp(pay with { Duplicate = true, Attempt = 1 }, DuplicateDelay);
                }
                break;
            case PayOrder:
                order.DuplicatePayment = result.Outcome;
                if (result.Outcome != order.Payment)
                {
                    order.Problem ??= Invariant($"the duplicate callback was answered {result.Outcome.Label()}, the first {order.Payment?.Label()}");
                }
                break;
            case CancelOrder:
                order.Cancel = result.Outcome;
                if (result.Outcome != FollowUpOutcome.Cancelled)
                {
                    order.Problem ??= Invariant($"the buyer's cancel was answered {result.Outcome.Label()}");
                }
                break;
        }
    }

    public async Task SettleAsync(SettleContext context, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        if (context.IsLast && context.Resolution is { } resolution)
        {
            foreach (var reserved in resolution.Reserved.Where(r => r.OrderNo is not null && !_orders.ContainsKey(r.OrderNo)))
            {
                var order = new SaleOrder(reserved.OrderNo!, reserved.BuyerId, reserved.SkuId, reserved.Quantity, context.Wave, Fate.Unseen, false);
                _orders[order.OrderNo] = order;
                _inOrder.Enqueue(order);
            }
        }

        var label = context.IsLast ? "the sale" : Invariant($"wave {context.Wave + 1}");
        var open = _inOrder.Where(o => !o.IsFinal).ToList();
        context.Progress.WriteLine(Invariant($"Settling {label}: waiting until none of its {open.Count:N0} open orders is pending (each paid, cancelled, or past its payment deadline and cancelled by the timeout scan)."));
        await WaitUntilFinalAsync(open, context, cancellationToken);

        if (context.IsLast)
        {
            // Read every order once more, also those final since an earlier wave, for the checks.
            await ReadAsync([.. _inOrder], context.Observer, cancellationToken);
        }
        var paidUnits = _inOrder.Where(o => o.Final?.Status == OrderStatus.Paid).Sum(o => o.Quantity);
        var pendingUnits = _inOrder.Where(o => !o.IsFinal).Sum(o => o.Quantity);
        var available = await WaitForStockAsync(context.Observer, _settings.Stock - paidUnits - pendingUnits, cancellationToken);

        var waveOrders = _inOrder.Where(o => o.Wave == context.Wave).ToList();
        _waves.Add(new WaveSummary(
            context.Wave, waveOrders.Count, waveOrders.Sum(o => o.Quantity),
            waveOrders.Count(o => o.Final?.Status == OrderStatus.Paid),
            waveOrders.Count(o => o.Final?.Status == OrderStatus.Cancelled && o.Cancel == FollowUpOutcome.Cancelled),
            waveOrders.Count(o => o.Final?.Status == OrderStatus.Cancelled && o.Cancel != FollowUpOutcome.Cancelled),
            waveOrders.Count(o => !o.IsFinal),
            Stopwatch.GetElapsedTime(started), available));
        context.Progress.WriteLine(Invariant($"Settled {label} in {Stopwatch.GetElapsedTime(started).TotalSeconds:0.0} s: ")
            + Invariant($"{_inOrder.Count(o => o.Final?.Status == OrderStatus.Paid):N0} orders paid, {_inOrder.Count(o => o.Final?.Status == OrderStatus.Cancelled):N0} cancelled, ")
            + Invariant($"{_inOrder.Count(o => !o.IsFinal):N0} not final; {(available is { } a ? a.ToString("N0", CultureInfo.InvariantCulture) : "unknown")} units on sale."));

        if (context.IsLast)
        {
            _availableAfterSale = available;
            if (_settings.CouponShare > 0)
            {
                var redeemed = _inOrder.Count(o => o.Coupon && o.Final?.Status == OrderStatus.Paid);
                _couponsAfterSale = await WaitForCouponsAsync(context.Observer, redeemed, cancellationToken);
            }
            await ReadPaymentsAsync(context.Observer, cancellationToken);
            if (_timeline is not null)
            {
                await _timeline.StopAsync();
            }
        }
    }

    public IReadOnlyDictionary<long, long> ReleasedUnits
        => _inOrder.Where(o => o.Final?.Status == OrderStatus.Cancelled).GroupBy(o => o.SkuId).ToDictionary(g => g.Key, g => g.Sum(o => (long)o.Quantity));

    public IReadOnlyList<InvariantResult> Verify(SaleUnderTest sale, IReadOnlyList<CreatedOrder> orders, Resolution resolution)
    {
        var all = _inOrder.ToList();
        return
        [
            EveryOrderFinal(all),
            PaidWithinStock(all),
            StockCameBack(all),
            PaymentsRecordedOnce(all),
            ReleasedUnitsSoldAgain(),
            HeldWithinStock(all),
            FollowUpsAsExpected(all),
            .. _settings.CouponShare > 0 ? (InvariantResult[])[CouponsExact(all)] : [],
        ];
    }

    public IReadOnlyList<string> Notes
    {
        get
        {
            var all = _inOrder.ToList();
            var duplicates = all.Count(o => o.DuplicatePayment is not null);
            var firstWave = _waves.FirstOrDefault();
            var resold = firstWave is null ? 0 : Math.Max(0, firstWave.Units - _settings.Stock);
            return
            [
                Invariant($"Payment window {_settings.PaymentWindowSeconds} s; of the first wave's orders {_settings.PayShare:P0} pay, {_settings.CancelShare:P0} cancel, ")
                    + Invariant($"the rest time out; the second wave's pay or cancel in the same ratio. Buyers act {_settings.ThinkTime.TotalSeconds / 4:0.##}–{_settings.ThinkTime.TotalSeconds:0.##} s after their 201."),
                Invariant($"{duplicates:N0} payment callbacks were sent twice (same providerTxnId, {DuplicateDelay.TotalMilliseconds:0} ms after the first answer), as a provider retries."),
                Invariant($"{resold:N0} units given back by buyers during the first wave were sold again within it."),
                .. _settings.CouponShare > 0
                    ? (string[])[Invariant($"{_settings.CouponShare:P0} of the attempts took the coupon {CouponId} ({Discount:0.00} off, {_settings.CouponPool:N0} in the pool, one per buyer): ")
                        + Invariant($"{all.Count(o => o.Coupon):N0} orders carried it, {all.Count(o => o.Coupon && o.Final?.Status == OrderStatus.Paid):N0} paid at {Price - Discount:0.00}.")]
                    : [],
            ];
        }
    }

    public IReadOnlyList<ReportSection> Sections
    {
        get
        {
            var table = new TextTable("wave", "orders", "paid", "cancelled by buyer", "timed out", "not final", "settled in", "units on sale after");
            foreach (var wave in _waves)
            {
                table.Add(
                    Invariant($"{wave.Wave + 1}"), Invariant($"{wave.Orders:N0}"), Invariant($"{wave.Paid:N0}"), Invariant($"{wave.CancelledByBuyer:N0}"),
                    Invariant($"{wave.TimedOut:N0}"), Invariant($"{wave.NotFinal:N0}"), Invariant($"{wave.Settle.TotalSeconds:0.0} s"),
                    wave.AvailableAfter is { } a ? Invariant($"{a:N0}") : "unknown");
            }
            var samples = _timeline?.Samples ?? [];
            var text = Invariant($"Orders by the wave that created them and how they ended (read back after the sale settled). ")
                + Invariant($"The SKU was read {samples.Count:N0} times during the sale (every {StockTimeline.Interval.TotalMilliseconds:0} ms)")
                + (_timeline?.LedgerAvailable == true ? ", with the admin ledger." : ", the public stock view only (the ledger endpoint did not answer).");
            return [new ReportSection("Sale lifecycle", text, table, StockChart.Render(samples, _settings.Stock))];
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_timeline is not null)
        {
            await _timeline.DisposeAsync();
        }
    }

    private Fate DrawFate(long k, int wave)
    {
        var u = (_fateOffset + (k * 0.6180339887498949)) % 1.0;
        if (wave == 0)
        {
            return u < _settings.PayShare ? Fate.Pay : u < _settings.PayShare + _settings.CancelShare ? Fate.Cancel : Fate.TimeOut;
        }
        var acting = _settings.PayShare + _settings.CancelShare;
        return acting <= 0 || u < _settings.PayShare / acting ? Fate.Pay : Fate.Cancel;
    }

    private double Uniform(long k, ulong salt) => SplitMix64.Uniform(_settings.Seed ^ salt ^ (ulong)k);

    private static string Amount(int quantity, bool coupon) => ((Price * quantity) - (coupon ? Discount : 0)).ToString("0.00", CultureInfo.InvariantCulture);

    /// <summary>
    /// Waits until the pool shows every coupon back but those of paid orders (and none locked): MySQL says cancelled a moment
    /// before the coupon is back in Redis, as for units. Returns the pool's ledger as it last read it.
    /// </summary>
    private async Task<CouponLedgerView?> WaitForCouponsAsync(EngineClient observer, int redeemed, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(CouponSettleTimeout.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            CouponLedgerView? ledger;
            try
            {
                ledger = await observer.GetCouponLedgerAsync(_campaignId!, CouponId, cancellationToken);
            }
            catch (HttpRequestException)
            {
                ledger = null;
            }
            if ((ledger is { Drift: 0, InFlight: 0 } && ledger.Redis.Available == _settings.CouponPool - redeemed && ledger.Redis.Locked == 0)
                || Stopwatch.GetTimestamp() > deadline)
            {
                return ledger;
            }
            await Task.Delay(SettlePoll, cancellationToken);
        }
    }

    /// <summary>
    /// The coupon pool at the end, every order final: the coupons of paid orders redeemed, every other one back in the pool
    /// (total = available + locked + redeemed with nothing locked), MySQL agreeing, no drift; and never more coupons used
    /// than the pool had.
    /// </summary>
    private InvariantResult CouponsExact(List<SaleOrder> all)
    {
        var name = Invariant($"coupons exact (pool {CouponId} of {_settings.CouponPool:N0})");
        var paid = all.Count(o => o.Coupon && o.Final?.Status == OrderStatus.Paid);
        var cancelled = all.Count(o => o.Coupon && o.Final?.Status == OrderStatus.Cancelled);
        var wrongAmount = all.Where(o => o.Final is { } f && f.Amount != Amount(o.Quantity, o.Coupon)).ToList();
        if (_couponsAfterSale is not { } ledger)
        {
            return new InvariantResult(name, false, "the pool's ledger could not be read");
        }
        var passed = paid <= _settings.CouponPool && ledger.Drift == 0 && ledger.Redis.Locked == 0 && ledger.Redis.Redeemed == paid
            && ledger.Redis.Available == _settings.CouponPool - paid && ledger.Total == ledger.Redis.Available + ledger.Redis.Locked + ledger.Redis.Redeemed
            && ledger.Db.Redeemed == paid && ledger.Db.Released == cancelled && wrongAmount.Count == 0;
        var detail = Invariant($"{all.Count(o => o.Coupon):N0} orders carried the coupon: {paid:N0} paid, {cancelled:N0} cancelled; the pool: ")
            + Invariant($"{ledger.Redis.Available:N0} available + {ledger.Redis.Locked:N0} locked + {ledger.Redis.Redeemed:N0} redeemed of {ledger.Total:N0}, ")
            + Invariant($"MySQL {ledger.Db.Locked:N0} locked / {ledger.Db.Redeemed:N0} redeemed / {ledger.Db.Released:N0} released, drift {ledger.Drift:N0}");
        if (wrongAmount.Count > 0)
        {
            detail += Invariant($"; {wrongAmount.Count:N0} orders with another amount than price − discount, e.g. ")
                + string.Join("; ", wrongAmount.Take(MaxExamples).Select(o => $"{o.OrderNo}: {o.Final!.Amount} (coupon: {o.Coupon})"));
        }
        return new InvariantResult(name, passed, detail);
    }

    private string TransactionId(string orderNo) => $"{_campaignId}-pay-{orderNo}";

    /// <summary>Reads the open orders until each is Paid or Cancelled, or until --settle-timeout past the last deadline.</summary>
    private async Task WaitUntilFinalAsync(List<SaleOrder> open, SettleContext context, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var lastPrint = started;
        // Orders that cannot be read at all still get --settle-timeout from now; readable ones until that long after their deadline.
        var giveUpAt = DateTime.UtcNow + _settings.SettleTimeout;
        var pending = open;
        while (true)
        {
            pending = await ReadAsync(pending, context.Observer, cancellationToken);
            if (pending.Count == 0)
            {
                return;
            }
            var deadlines = pending.Where(o => o.Final is not null).Select(o => o.Final!.PaymentDeadline).ToList();
            var now = DateTime.UtcNow;
            if (deadlines.Count > 0 && deadlines.Max() + _settings.SettleTimeout > giveUpAt)
            {
                giveUpAt = deadlines.Max() + _settings.SettleTimeout;
            }
            if (now > giveUpAt)
            {
                context.Progress.WriteLine(Invariant($"Settling: {pending.Count:N0} orders still not final {_settings.SettleTimeout.TotalSeconds:0} s after the last payment deadline (--settle-timeout); giving up on them."));
                return;
            }
            if (Stopwatch.GetElapsedTime(lastPrint) >= TimeSpan.FromSeconds(1))
            {
                lastPrint = Stopwatch.GetTimestamp();
                var last = deadlines.Count > 0 ? deadlines.Max() : now;
                context.Progress.WriteLine(Invariant($"[settle {Stopwatch.GetElapsedTime(started).TotalSeconds,5:0.0}s] {_inOrder.Count(o => o.IsFinal):N0} of {_inOrder.Count:N0} orders final ")
                    + Invariant($"({_inOrder.Count(o => o.Final?.Status == OrderStatus.Paid):N0} paid, {_inOrder.Count(o => o.Final?.Status == OrderStatus.Cancelled):N0} cancelled); ")
                    + Invariant($"{pending.Count:N0} pending, the last payment deadline {(last > now ? Invariant($"in {(last - now).TotalSeconds:0.0} s") : Invariant($"{(now - last).TotalSeconds:0.0} s ago"))}"));
            }
            // Nothing can change before the earliest deadline but a payment or cancel, and those are answered already.
            var earliest = deadlines.Count > 0 ? deadlines.Min() : now;
            var wait = earliest > now ? earliest - now : SettlePoll;
            await Task.Delay(wait > TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : wait < SettlePoll ? SettlePoll : wait, cancellationToken);
        }
    }

    /// <summary>Reads each order with its buyer's token; returns those not (yet) Paid or Cancelled.</summary>
    private static async Task<List<SaleOrder>> ReadAsync(IReadOnlyList<SaleOrder> orders, EngineClient observer, CancellationToken cancellationToken)
    {
        var open = new ConcurrentQueue<SaleOrder>();
        await Parallel.ForEachAsync(orders, new ParallelOptions { MaxDegreeOfParallelism = ReadParallelism, CancellationToken = cancellationToken },
            async (order, ct) =>
            {
                var lookup = await observer.GetOrderAsync(order.BuyerId, order.OrderNo, ReadTimeout, ct);
                if (lookup.Status == OrderLookupStatus.Found)
                {
                    order.Final = lookup.Order;
                    order.LastRead = lookup.Order!.Status;
                }
                else
                {
                    order.LastRead = lookup.Detail ?? lookup.Status.ToString();
                }
                if (!order.IsFinal)
                {
                    open.Enqueue(order);
                }
            });
        return [.. open];
    }

    /// <summary>
    /// Waits until the SKU shows <paramref name="expected"/> units on sale: MySQL says cancelled a moment
    /// before the release script has returned the units to Redis. Returns what it last read.
    /// </summary>
    private async Task<int?> WaitForStockAsync(EngineClient observer, int expected, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(StockSettleTimeout.TotalSeconds * Stopwatch.Frequency);
        int? available = null;
        while (true)
        {
            try
            {
                available = (await observer.GetSkuAsync(_campaignId!, SkuId, cancellationToken)).Available;
            }
            catch (Exception ex) when (ex is SetupException or HttpRequestException)
            {
                available = null;
            }
            if (available == expected || Stopwatch.GetTimestamp() > deadline)
            {
                return available;
            }
            await Task.Delay(SettlePoll, cancellationToken);
        }
    }

    private async Task ReadPaymentsAsync(EngineClient observer, CancellationToken cancellationToken)
    {
        try
        {
            _applied = await observer.ListPaymentsAsync("applied", PaymentListLimit, cancellationToken);
            _refundRequired = await observer.ListPaymentsAsync("refund-required", PaymentListLimit, cancellationToken);
        }
        catch (Exception ex) when (ex is SetupException or HttpRequestException)
        {
            _paymentsFailure = ex.Message;
        }
    }

    private static InvariantResult EveryOrderFinal(List<SaleOrder> all)
    {
        var notFinal = all.Where(o => !o.IsFinal).ToList();
        var wrong = all.Where(o => o.IsFinal && Contradiction(o) is not null).ToList();
        var paid = all.Count(o => o.Final?.Status == OrderStatus.Paid);
        var byBuyer = all.Count(o => o.Final?.Status == OrderStatus.Cancelled && o.Cancel == FollowUpOutcome.Cancelled);
        var timedOut = all.Count(o => o.Final?.Status == OrderStatus.Cancelled && o.Cancel != FollowUpOutcome.Cancelled);
        var passed = all.Count > 0 && notFinal.Count == 0 && wrong.Count == 0;
        var detail = Invariant($"{all.Count:N0} orders: {paid:N0} paid, {byBuyer:N0} cancelled by their buyer, {timedOut:N0} cancelled when their payment window closed");
        if (all.Count == 0)
        {
            detail = "no order was created";
        }
        if (notFinal.Count > 0)
        {
            detail += Invariant($"; {notFinal.Count:N0} not final, e.g. ") + string.Join("; ", notFinal.Take(MaxExamples).Select(o => Invariant($"{o.OrderNo} ({o.Fate}): {o.LastRead}")));
        }
        if (wrong.Count > 0)
        {
            detail += Invariant($"; {wrong.Count:N0} ended otherwise than their buyer and provider acted, e.g. ") + string.Join("; ", wrong.Take(MaxExamples).Select(o => $"{o.OrderNo}: {Contradiction(o)}"));
        }
        return new InvariantResult("every order ends Paid or Cancelled", passed, detail);
    }

    /// <summary>Why an order's final status cannot follow from what was done to it; null when it can.</summary>
    private static string? Contradiction(SaleOrder order)
    {
        var status = order.Final!.Status;
        if (order.Payment == FollowUpOutcome.Applied && status != OrderStatus.Paid)
        {
            return $"its payment was applied, yet it is {status}";
        }
        if (order.Cancel == FollowUpOutcome.Cancelled && status != OrderStatus.Cancelled)
        {
            return $"its buyer cancelled it, yet it is {status}";
        }
        if (status == OrderStatus.Paid && order.Payment != FollowUpOutcome.Applied)
        {
            return "it is Paid, but no payment of it was applied";
        }
        return null;
    }

    private InvariantResult PaidWithinStock(List<SaleOrder> all)
    {
        var paid = all.Where(o => o.Final?.Status == OrderStatus.Paid).Sum(o => (long)o.Quantity);
        return new InvariantResult(Invariant($"paid ≤ stock (SKU {SkuId})"), paid <= _settings.Stock,
            Invariant($"{paid:N0} units paid, stock {_settings.Stock:N0}"));
    }

    /// <summary>Once every order is final, the units on sale are exactly the ones nobody paid for: every cancel and timeout gave its units back.</summary>
    private InvariantResult StockCameBack(List<SaleOrder> all)
    {
        var paid = all.Where(o => o.Final?.Status == OrderStatus.Paid).Sum(o => o.Quantity);
        var cancelled = all.Where(o => o.Final?.Status == OrderStatus.Cancelled).Sum(o => o.Quantity);
        var expected = _settings.Stock - paid;
        return new InvariantResult(Invariant($"cancelled and timed-out units came back (SKU {SkuId})"), _availableAfterSale == expected,
            Invariant($"the public SKU view shows {(_availableAfterSale is { } a ? a.ToString("N0", CultureInfo.InvariantCulture) : "nothing (unreadable)")} units on sale ")
            + Invariant($"once the sale settled, total {_settings.Stock:N0} − {paid:N0} paid = {expected:N0}; {cancelled:N0} units of cancelled orders went back on sale"));
    }

    private InvariantResult PaymentsRecordedOnce(List<SaleOrder> all)
    {
        const string Name = "every paid order's payment recorded once";
        var paid = all.Where(o => o.Final?.Status == OrderStatus.Paid).ToList();
        var duplicates = all.Where(o => o.DuplicatePayment is not null).ToList();
        var splitAnswers = duplicates.Where(o => o.DuplicatePayment != o.Payment).ToList();
        if (_applied is null || _refundRequired is null)
        {
            return new InvariantResult(Name, false, "could not list the recorded payments: " + _paymentsFailure);
        }

        var ours = all.Select(o => o.OrderNo).ToHashSet(StringComparer.Ordinal);
        var appliedPerOrder = _applied.Where(p => ours.Contains(p.OrderNo)).GroupBy(p => p.OrderNo, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        // The list is the newest payments of the whole engine; below its cap it holds every one of ours.
        var complete = _applied.Count < PaymentListLimit;
        var twice = appliedPerOrder.Where(p => p.Value > 1).Select(p => p.Key).ToList();
        var missing = complete ? paid.Where(o => !appliedPerOrder.ContainsKey(o.OrderNo)).Select(o => o.OrderNo).ToList() : [];
        var paidNumbers = paid.Select(o => o.OrderNo).ToHashSet(StringComparer.Ordinal);
        var refundOfPaid = _refundRequired.Where(p => paidNumbers.Contains(p.OrderNo)).Select(p => p.OrderNo).Distinct(StringComparer.Ordinal).ToList();

        var passed = splitAnswers.Count == 0 && twice.Count == 0 && missing.Count == 0 && refundOfPaid.Count == 0;
        var scope = complete
            ? Invariant($"all {paid.Count:N0} paid orders have exactly one applied payment")
            : Invariant($"{appliedPerOrder.Count:N0} of the {paid.Count:N0} paid orders are among the newest {PaymentListLimit} applied payments (the list's cap), each once");
        var detail = passed
            ? scope + Invariant($"; the {duplicates.Count:N0} duplicate callbacks were answered like the first and recorded nothing more (no refund-required payment for a paid order)")
            : Invariant($"{splitAnswers.Count:N0} duplicates answered differently ({string.Join("; ", splitAnswers.Take(MaxExamples).Select(o => o.Problem))}), ")
                + Invariant($"{twice.Count:N0} orders with more than one applied payment ({string.Join(", ", twice.Take(MaxExamples))}), ")
                + Invariant($"{missing.Count:N0} paid orders without one ({string.Join(", ", missing.Take(MaxExamples))}), ")
                + Invariant($"{refundOfPaid.Count:N0} paid orders also with a refund-required payment ({string.Join(", ", refundOfPaid.Take(MaxExamples))})");
        return new InvariantResult(Name, passed, detail);
    }

    private InvariantResult ReleasedUnitsSoldAgain()
    {
        const string Name = "released units were sold again";
        if (_waves.Count < 2 || _waves[0].AvailableAfter is not { } cameBack)
        {
            return new InvariantResult(Name, false, "the second wave did not run, or the stock after the first could not be read");
        }
        var first = _waves[0];
        var secondUnits = _waves[1].Units;
        var resoldInFirst = Math.Max(0, first.Units - _settings.Stock);
        if (cameBack == 0)
        {
            return new InvariantResult(Name, false,
                Invariant($"no unit was back on sale after the first wave ({first.CancelledByBuyer:N0} cancelled by buyers, {first.TimedOut:N0} timed out, ")
                + Invariant($"{resoldInFirst:N0} units re-sold within it): nothing for the second wave to buy; lower --pay-share or raise --cancel-share"));
        }
        return new InvariantResult(Name, secondUnits >= cameBack,
            Invariant($"{cameBack:N0} units were back on sale after the first wave's {first.TimedOut:N0} timeouts and {first.CancelledByBuyer:N0} buyer cancels ")
            + Invariant($"({resoldInFirst:N0} re-sold within the first wave already); the second wave's buyers reserved {secondUnits:N0} units")
            + (secondUnits >= cameBack ? "" : ": some came back but were not sold again"));
    }

    /// <summary>
    /// Units held (reserved and not released, or paid) never above stock. From the orders: each held its
    /// units from its <c>createdAt</c> (the Redis clock's instant of the reservation) until, at the earliest,
    /// its payment deadline (a timeout) or the instant its buyer's cancel fell due; paid ones forever. These
    /// are lower bounds of every release, so the overlap counted is never more than the real one. From the
    /// samples: the public stock view and the ledger, read every half second.
    /// </summary>
    private InvariantResult HeldWithinStock(List<SaleOrder> all)
    {
        var events = new List<(DateTime At, int Delta)>();
        foreach (var order in all.Where(o => o.Final is not null))
        {
            events.Add((order.Final!.CreatedAt, order.Quantity));
            if (order.Final.Status == OrderStatus.Cancelled)
            {
                var release = order.CancelNotBeforeUtc is { } cancel && cancel < order.Final.PaymentDeadline ? cancel : order.Final.PaymentDeadline;
                events.Add((release, -order.Quantity));
            }
        }
        var held = 0;
        var peak = 0;
        var peakAt = DateTime.MinValue;
        // At the same instant a release comes first: a unit can be re-sold the moment it is back.
        foreach (var (at, delta) in events.OrderBy(e => e.At).ThenBy(e => e.Delta))
        {
            held += delta;
            if (held > peak)
            {
                peak = held;
                peakAt = at;
            }
        }

        var samples = _timeline?.Samples ?? [];
        var badSamples = samples.Where(s => s.Available < 0 || s.Available > s.Total
            || (s.Ledger is { } l && (l.Db.Pending + l.Db.Paid > s.Total || l.Redis.Reserved + l.Redis.Sold > s.Total))).ToList();
        var withLedger = samples.Where(s => s.Ledger is not null).ToList();
        var sampled = withLedger.Count > 0
            ? Invariant($"{samples.Count:N0} samples of the SKU, {withLedger.Count:N0} with the ledger: MySQL pending + paid at most {withLedger.Max(s => s.Ledger!.Db.Pending + s.Ledger.Db.Paid):N0}, ")
                + Invariant($"Redis reserved + sold at most {withLedger.Max(s => s.Ledger!.Redis.Reserved + s.Ledger.Redis.Sold):N0}")
            : Invariant($"{samples.Count:N0} samples of the public stock view (ledger endpoint not available), available always within 0..total");
        var passed = peak <= _settings.Stock && badSamples.Count == 0 && all.Count > 0;
        var detail = Invariant($"by the orders' lifetimes at most {peak:N0} units were held at once")
            + (peakAt > DateTime.MinValue ? Invariant($" ({peakAt:HH:mm:ss.fff} UTC)") : "")
            + Invariant($", stock {_settings.Stock:N0}; {sampled}");
        if (badSamples.Count > 0)
        {
            detail += Invariant($"; {badSamples.Count:N0} samples out of bounds, e.g. ") + string.Join("; ", badSamples.Take(MaxExamples).Select(s =>
                Invariant($"at {s.Seconds:0.0} s available {s.Available}/{s.Total}")
                + (s.Ledger is { } l ? Invariant($", pending {l.Db.Pending} + paid {l.Db.Paid}, reserved {l.Redis.Reserved} + sold {l.Redis.Sold}") : "")));
        }
        return new InvariantResult(Invariant($"paid + pending never exceeded stock (SKU {SkuId})"), passed, detail);
    }

    private static InvariantResult FollowUpsAsExpected(List<SaleOrder> all)
    {
        foreach (var order in all)
        {
            if (order.Fate == Fate.Pay && order.Payment is null)
            {
                order.Problem ??= "its payment callback never got a decisive answer";
            }
            if (order.Fate == Fate.Cancel && order.Cancel is null)
            {
                order.Problem ??= "its buyer's cancel never got a decisive answer";
            }
        }
        var problems = all.Where(o => o.Problem is not null).ToList();
        var payments = all.Count(o => o.Fate == Fate.Pay);
        var cancels = all.Count(o => o.Fate == Fate.Cancel);
        return new InvariantResult("payments and cancels answered as sent", problems.Count == 0, problems.Count == 0
            ? Invariant($"{payments:N0} payments applied, {cancels:N0} cancels done, each with its first decisive answer")
            : Invariant($"{problems.Count:N0} orders: ") + string.Join("; ", problems.Take(MaxExamples).Select(o => $"{o.OrderNo}: {o.Problem}")));
    }
}
