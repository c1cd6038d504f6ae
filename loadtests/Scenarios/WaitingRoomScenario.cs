using System.Collections.Concurrent;
using System.Diagnostics;
using FlashSale.Contracts;
using FlashSale.LoadTests.EngineApi;
using FlashSale.LoadTests.Load;
using FlashSale.LoadTests.Measurement;
using FlashSale.LoadTests.Reporting;
using FlashSale.LoadTests.Verification;

namespace FlashSale.LoadTests.Scenarios;

/// <summary>
/// A sale behind a waiting room: a crowd (default twenty times the stock) joins the SKU's queue before the start, every
/// buyer then polls their ticket as the Ingress asks (<c>Retry-After</c>), reserves once with the admission token when
/// Admitted, and leaves when the ticket says SoldOut (or Expired, Ended). The scenario drives this traffic itself
/// (<see cref="IScenario.Model"/>): --rate and --concurrency do not apply; --concurrency bounds the joins in flight.
/// It reports how long buyers waited from the start to their admission, and how long after the last unit was sold the
/// waiting buyers learned it (the last of them is the figure to watch).
/// </summary>
public sealed class WaitingRoomScenario : IScenario, ILoadModel
{
    public const string ScenarioName = "waiting-room";
    public const int DefaultStock = 100;
    public const int DefaultCrowdFactor = 20;
    public const decimal DefaultAdmitFactor = 1.5m;
    public const int DefaultTokenSeconds = 60;
    public const long SkuId = 1;

    private readonly int _stock;
    private readonly int _crowd;
    private readonly decimal _admitFactor;
    private readonly int _tokenSeconds;
    private readonly TimeSpan _lead;
    private readonly int _joinConcurrency;
    private readonly ulong _seed;
    private readonly TimeSpan _saleLength;
    private string? _campaignId;
    private DateTime _startsAtUtc;
    private long _startsAtTimestamp;
    private Buyer[] _buyers = [];
    private readonly ConcurrentQueue<long> _created = new();
    private long _pollsSent;
    private long _pollFailures;
    private long _joinFailures;
    private TimeSpan? _joinsDoneBeforeStart;

    public WaitingRoomScenario(int stock, int? crowd, decimal admitFactor, int tokenSeconds, TimeSpan lead, int joinConcurrency, TimeSpan saleLength, ulong seed)
    {
        _stock = stock;
        _crowd = crowd ?? stock * DefaultCrowdFactor;
        _admitFactor = admitFactor;
        _tokenSeconds = tokenSeconds;
        _lead = lead;
        _joinConcurrency = joinConcurrency;
        _saleLength = saleLength;
        _seed = seed;
    }

    public string Name => ScenarioName;

    public string Description => Invariant($"waiting room: {_crowd:N0} buyers join {_lead.TotalSeconds:0.#} s before the start, poll, reserve when admitted");

    public IEnumerable<long> Buyers => Enumerable.Range(1, _crowd).Select(i => (long)i);

    public ILoadModel Model => this;

    public async Task<SaleUnderTest> SetUpAsync(SaleSetup setup, CancellationToken cancellationToken)
    {
        _campaignId = setup.CampaignId;
        // The runner mints the crowd's tokens after this, then the crowd joins: the lead covers both.
        _startsAtUtc = DateTime.UtcNow + _lead;
        _startsAtTimestamp = Stopwatch.GetTimestamp() + (long)(_lead.TotalSeconds * Stopwatch.Frequency);
        await setup.Engine.CreateCampaignAsync(
            setup.CampaignId, _startsAtUtc, setup.EndsAt + _lead, SingleSkuSale.PaymentWindowSeconds,
            [new CampaignSkuBody(SkuId, SingleSkuSale.Price, _stock, 1)], cancellationToken,
            new AdmissionBody(AdmissionModes.Queue, _admitFactor, _tokenSeconds));
        await setup.Engine.WarmUpAsync(setup.CampaignId, cancellationToken);
        _buyers = [.. Enumerable.Range(1, _crowd).Select(i => new Buyer(i))];
        return new SaleUnderTest(setup.CampaignId, [new SkuUnderTest(SkuId, _stock)]);
    }

    /// <summary>Never called: the scenario sends its reservations itself, each with its buyer's admission token.</summary>
    public ReserveRequest Next(long sequence) => throw new InvalidOperationException("The waiting room drives its own reservations.");

    public void Observe(ReserveRequest request, ReserveResult result, ILoadContext context)
    {
        if (result.Outcome == Outcome.Created)
        {
            _created.Enqueue(Stopwatch.GetTimestamp());
        }
    }

    /// <summary>
    /// The crowd: everyone joins (at most --concurrency at once), then each buyer polls at the interval the Ingress asks
    /// for until their ticket is decided, or until --duration after the start.
    /// </summary>
    public async Task RunAsync(LoadRun run, long startTimestamp, TimeSpan duration)
    {
        var campaignId = _campaignId ?? throw new InvalidOperationException("SetUpAsync has not run.");
        var engine = run.Engine;
        var end = _startsAtTimestamp + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(run.Stopping);
        await Parallel.ForEachAsync(_buyers, new ParallelOptions { MaxDegreeOfParallelism = _joinConcurrency, CancellationToken = run.Stopping }, async (buyer, token) =>
        {
            var (ticket, failure) = await engine.JoinQueueAsync(campaignId, SkuId, buyer.Id, token);
            if (ticket is null)
            {
                Interlocked.Increment(ref _joinFailures);
                buyer.Failure = failure;
                return;
            }
            buyer.Ticket = ticket.Ticket;
            buyer.Position = ticket.Position;
        });
        _joinsDoneBeforeStart = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), _startsAtTimestamp);
        await Task.WhenAll(_buyers.Where(b => b.Ticket is not null).Select(b => WaitAsync(run, campaignId, b, end)));
    }

    private async Task WaitAsync(LoadRun run, string campaignId, Buyer buyer, long end)
    {
        // Buyers joined within moments of each other; a random first delay keeps them from polling in lockstep.
        var jitter = new Random((int)(SplitMix64.Hash(_seed ^ (ulong)buyer.Id) & int.MaxValue));
        await Task.Delay(TimeSpan.FromMilliseconds(jitter.Next(0, 1000)), CancellationToken.None);
        while (!run.Stopping.IsCancellationRequested && Stopwatch.GetTimestamp() < end)
        {
            var sent = Stopwatch.GetTimestamp();
            Interlocked.Increment(ref _pollsSent);
            var (status, retryAfter, failure) = await run.Engine.PollTicketAsync(campaignId, SkuId, buyer.Id, buyer.Ticket!, CancellationToken.None);
            var received = Stopwatch.GetTimestamp();
            buyer.PollLatencies.Add(Stopwatch.GetElapsedTime(sent, received));
            switch (status?.State)
            {
                case null:
                    Interlocked.Increment(ref _pollFailures);
                    buyer.Failure = failure;
                    break;
                case QueueStates.Waiting:
                    buyer.LastWaitingSent = sent;
                    break;
                case QueueStates.Admitted:
                    buyer.AdmittedAt = received;
                    await run.ExecuteReservationAsync(
                        new ReserveRequest(campaignId, SkuId, buyer.Id, SingleSkuSale.IdempotencyKey(campaignId, buyer.Id), 1, status.AdmissionToken),
                        Stopwatch.GetTimestamp());
                    return;
                case QueueStates.SoldOut:
                    buyer.SoldOutAt = received;
                    return;
                default:
                    buyer.FinalState = status.State;
                    return;
            }
            // As a client should: at the interval the Ingress asks for (a second by default), give or take a tenth.
            var interval = retryAfter ?? TimeSpan.FromSeconds(1);
            await Task.Delay(interval * (0.9 + (jitter.NextDouble() * 0.2)), CancellationToken.None);
        }
    }

    public IReadOnlyList<InvariantResult> Verify(SaleUnderTest sale, IReadOnlyList<CreatedOrder> orders, Resolution resolution)
    {
        var results = new List<InvariantResult>();
        results.Add(new InvariantResult("the stock sold exactly", orders.Count == _stock,
            Invariant($"{orders.Count:N0} orders for {_stock:N0} units")));

        // In join order: once a ticket was seen Admitted, no ticket ahead of it in the queue may be seen Waiting afterwards
        // (a poll sent after that answer came back). The watermark only rises, and one Ingress's view only moves forward.
        var violations = 0;
        long latestWaitingAhead = 0;
        Buyer? example = null;
        foreach (var buyer in _buyers.Where(b => b.Ticket is not null).OrderBy(b => b.Position))
        {
            if (buyer.AdmittedAt is { } admitted && latestWaitingAhead > admitted)
            {
                violations++;
                example ??= buyer;
            }
            latestWaitingAhead = Math.Max(latestWaitingAhead, buyer.LastWaitingSent);
        }
        var admittedCount = _buyers.Count(b => b.AdmittedAt is not null);
        results.Add(new InvariantResult("admitted in join order", violations == 0, violations == 0
            ? Invariant($"{admittedCount:N0} buyers admitted; no ticket ahead of an admitted one was still waiting after it")
            : Invariant($"{violations:N0} tickets were admitted while one ahead of them was still waiting, e.g. #{example!.Position}")));

        var waitingAtEnd = _buyers.Count(b => b.Ticket is not null && b.AdmittedAt is null && b.SoldOutAt is null && b.FinalState is null);
        results.Add(new InvariantResult("every waiting buyer learned the sale was over", waitingAtEnd == 0 && _joinFailures == 0, waitingAtEnd == 0 && _joinFailures == 0
            ? Invariant($"{_buyers.Count(b => b.SoldOutAt is not null):N0} buyers saw SoldOut, {admittedCount:N0} were admitted")
            : Invariant($"{waitingAtEnd:N0} buyers still waiting at the end, {_joinFailures:N0} joins failed (e.g. {_buyers.FirstOrDefault(b => b.Failure is not null)?.Failure})")));
        return results;
    }

    public IReadOnlyList<string> Notes
    {
        get
        {
            var joins = _joinsDoneBeforeStart is { } lead
                ? lead > TimeSpan.Zero
                    ? Invariant($"the whole crowd had joined {lead.TotalSeconds:0.0} s before the start")
                    : Invariant($"WARNING: the crowd finished joining {-lead.TotalSeconds:0.0} s after the start (raise --lead)")
                : "the crowd did not join";
            return
            [
                Invariant($"{_crowd:N0} buyers ({(double)_crowd / _stock:0.#}× the stock of {_stock:N0}) joined a waiting room (admitFactor {_admitFactor}, tokens {_tokenSeconds} s); ")
                    + joins + Invariant($"; {Interlocked.Read(ref _pollsSent):N0} polls ({Interlocked.Read(ref _pollFailures):N0} failed)."),
            ];
        }
    }

    public IReadOnlyList<ReportSection> Sections
    {
        get
        {
            var sellOut = _created.IsEmpty ? (long?)null : _created.Max();
            var admission = _buyers.Where(b => b.AdmittedAt is not null).Select(b => Stopwatch.GetElapsedTime(_startsAtTimestamp, b.AdmittedAt!.Value)).ToList();
            // Only buyers who were never admitted: they are the ones who waited in line for stock that was gone.
            var learned = sellOut is { } at
                ? _buyers.Where(b => b.SoldOutAt is not null && b.AdmittedAt is null).Select(b => Stopwatch.GetElapsedTime(at, b.SoldOutAt!.Value)).ToList()
                : [];
            var polls = _buyers.SelectMany(b => b.PollLatencies).ToList();
            var table = new TextTable("measure", "buyers", "p50", "p90", "p99", "max")
                .Add(Row("from the start to admission", admission))
                .Add(Row("from the sell-out to learning it (never admitted)", learned))
                .Add(Row("poll latency", polls));
            var soldOutText = sellOut is { } last
                ? Invariant($"The last unit's 201 came {Stopwatch.GetElapsedTime(_startsAtTimestamp, last).TotalSeconds:0.00} s after the start; ")
                    + (learned.Count > 0
                        ? Invariant($"the last waiting buyer learned the SKU was sold out {learned.Max().TotalSeconds:0.00} s after that.")
                        : "no waiting buyer was told it was sold out.")
                : "Nothing was sold.";
            return
            [
                new ReportSection("Waiting room",
                    "Times from the sale's start (by the harness's clock) to the poll that first answered Admitted, and from the last unit's 201 "
                    + "to the poll that first answered SoldOut, for buyers who were never admitted. Buyers poll at the Retry-After the Ingress "
                    + "returns, so both include up to one polling interval of the buyer's own. " + soldOutText,
                    table),
            ];
        }
    }

    private static string[] Row(string measure, List<TimeSpan> values)
    {
        if (values.Count == 0)
        {
            return [measure, "0", "-", "-", "-", "-"];
        }
        values.Sort();
        string At(double q) => Milliseconds(values[Math.Min(values.Count - 1, (int)Math.Ceiling(q * values.Count) - 1)]);
        return [measure, Invariant($"{values.Count:N0}"), At(0.5), At(0.9), At(0.99), Milliseconds(values[^1])];
    }

    private static string Milliseconds(TimeSpan value) => Invariant($"{value.TotalMilliseconds:N0} ms");

    /// <summary>One buyer of the crowd; each is handled by one task at a time.</summary>
    private sealed class Buyer(long id)
    {
        public long Id => id;

        public string? Ticket { get; set; }

        public long Position { get; set; }

        /// <summary>When the last poll that answered Waiting was sent (a Stopwatch timestamp; 0: none).</summary>
        public long LastWaitingSent { get; set; }

        public long? AdmittedAt { get; set; }

        public long? SoldOutAt { get; set; }

        public string? FinalState { get; set; }

        public string? Failure { get; set; }

        public List<TimeSpan> PollLatencies { get; } = [];
    }
}
