using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using FlashSale.Tests.Infrastructure;
using FlashSale.Tests.Pipeline;

namespace FlashSale.Tests.Reconciliation;

/// <summary>
/// Buyers of one SKU at a steady pace, as many at once as <c>clients</c>, each purchase a buyer of its own with an
/// Idempotency-Key of its own, sent to the Ingresses in turn. A purchase is retried with the same key on a 503 and on a
/// connection that failed, until it is acknowledged (2xx) or the SKU is sold out, as a careful client would. The pace
/// is a ceiling: a sale slowed down by a loaded machine never catches up in a burst. A test can hold the buyers
/// (<see cref="HoldAsync"/>) to act on a moment that must not move, and let them go on (<see cref="Resume"/>).
/// </summary>
internal sealed class PacedSale(PipelineFixture engine, Func<IReadOnlyList<Uri>> ingresses, string campaignId, long skuId, double perSecond)
{
    private const int FirstBuyer = 300_000;

    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(100);

    private readonly ConcurrentDictionary<int, long> _acknowledged = new();
    private readonly ConcurrentQueue<DateTime> _acknowledgedAt = new();
    private readonly ConcurrentQueue<string> _unexpected = new();
    private readonly Lock _paceLock = new();
    private TaskCompletionSource _resumed = Resumed();
    private DateTime _nextSlot = DateTime.MinValue;
    private int _requestsInFlight;
    private int _next = -1;
    private int _recovering;
    private int _unavailable;
    private int _failedConnections;
    private volatile bool _soldOut;

    /// <summary>Purchases acknowledged so far (each once, whatever its retries).</summary>
    public int Acknowledged => _acknowledged.Count;

    public int Recovering => Volatile.Read(ref _recovering);

    public int Unavailable => Volatile.Read(ref _unavailable);

    public int FailedConnections => Volatile.Read(ref _failedConnections);

    public IReadOnlyCollection<string> Unexpected => _unexpected;

    public int AcknowledgedAfter(DateTime utc) => _acknowledgedAt.Count(t => t > utc);

    /// <summary>Every acknowledged purchase, as the order it got.</summary>
    public List<Success> Successes() => [.. _acknowledged.Select(a => new Success(a.Value, FirstBuyer + a.Key, skuId, 1))];

    public string Summary() => $"acknowledged {Acknowledged}, 503 recovering {Recovering}, 503 unavailable {Unavailable}, " +
        $"failed connections {FailedConnections}, unexpected: {string.Join(" | ", _unexpected.Take(5))}";

    /// <summary>Runs until the SKU answers sold-out and every purchase begun has its answer.</summary>
    public async Task RunAsync(int clients, TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var deadline = DateTime.UtcNow + timeout;
        await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            while (!_soldOut && DateTime.UtcNow < deadline)
            {
                var purchase = Interlocked.Increment(ref _next);
                var due = NextSlot();
                if (due > DateTime.UtcNow)
                {
                    await Task.Delay(due - DateTime.UtcNow);
                }
                if (_soldOut)
                {
                    return;
                }
                await PurchaseAsync(http, purchase, deadline);
            }
        })));
        if (!_soldOut)
        {
            _unexpected.Enqueue($"not sold out within {timeout.TotalSeconds} s");
        }
    }

    /// <summary>
    /// Stops the buyers from sending anything new (first attempts and retries wait) and returns once no request is in
    /// flight: until <see cref="Resume"/>, the engine sees no buyer at all.
    /// </summary>
    public async Task HoldAsync()
    {
        lock (_paceLock)
        {
            if (_resumed.Task.IsCompleted)
            {
                _resumed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
        await Eventually.HoldsAsync(() => Volatile.Read(ref _requestsInFlight) == 0, TimeSpan.FromSeconds(30));
    }

    /// <summary>Lets held buyers go on, at the pace again from now.</summary>
    public void Resume()
    {
        lock (_paceLock)
        {
            _nextSlot = DateTime.UtcNow;
            _resumed.TrySetResult();
        }
    }

    private static TaskCompletionSource Resumed()
    {
        var resumed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        resumed.SetResult();
        return resumed;
    }

    // The next purchase's start: one every 1/perSecond, never earlier than now (no burst after a slow stretch).
    private DateTime NextSlot()
    {
        lock (_paceLock)
        {
            var now = DateTime.UtcNow;
            var paced = _nextSlot == DateTime.MinValue ? now : _nextSlot.AddSeconds(1 / perSecond);
            _nextSlot = paced > now ? paced : now;
            return _nextSlot;
        }
    }

    // Sends one attempt once the buyers are not held; counts it in flight from the moment it passes the hold.
    private async Task<HttpResponseMessage> SendAsync(HttpClient http, HttpRequestMessage request)
    {
        while (true)
        {
            Task resumed;
            lock (_paceLock)
            {
                resumed = _resumed.Task;
                if (resumed.IsCompleted)
                {
                    Interlocked.Increment(ref _requestsInFlight);
                    break;
                }
            }
            await resumed;
        }
        try
        {
            return await http.SendAsync(request);
        }
        finally
        {
            Interlocked.Decrement(ref _requestsInFlight);
        }
    }

    private async Task PurchaseAsync(HttpClient http, int purchase, DateTime deadline)
    {
        var token = engine.Tokens.Mint(FirstBuyer + purchase);
        for (var attempt = 0; ; attempt++)
        {
            if (DateTime.UtcNow > deadline)
            {
                _unexpected.Enqueue($"purchase {purchase} had no answer before the deadline");
                return;
            }
            var targets = ingresses();
            using var request = new HttpRequestMessage(HttpMethod.Post,
                new Uri(targets[(purchase + attempt) % targets.Count], $"/api/v1/campaigns/{campaignId}/skus/{skuId}/reservations"))
            {
                Content = TestSale.Json("""{"quantity":1}"""),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            request.Headers.Add("Idempotency-Key", $"paced-{purchase}");
            HttpResponseMessage response;
            try
            {
                response = await SendAsync(http, request);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // The Ingress died, or did not answer: the outcome is unknown, the same key again finds out.
                Interlocked.Increment(ref _failedConnections);
                await Task.Delay(RetryDelay);
                continue;
            }
            using (response)
            {
                var body = await response.Content.ReadAsStringAsync();
                switch (response.StatusCode)
                {
                    case HttpStatusCode.Created or HttpStatusCode.OK:
                        var orderNo = long.Parse(JsonDocument.Parse(body).RootElement.GetProperty("orderNo").GetString()!, CultureInfo.InvariantCulture);
                        var kept = _acknowledged.GetOrAdd(purchase, orderNo);
                        if (kept != orderNo)
                        {
                            _unexpected.Enqueue($"purchase {purchase} was acknowledged as order {kept}, then as {orderNo}");
                        }
                        _acknowledgedAt.Enqueue(DateTime.UtcNow);
                        return;
                    case HttpStatusCode.Conflict when body.Contains("/sold-out", StringComparison.Ordinal):
                        _soldOut = true;
                        return;
                    case HttpStatusCode.ServiceUnavailable:
                        Interlocked.Increment(ref body.Contains("/recovering", StringComparison.Ordinal) ? ref _recovering : ref _unavailable);
                        await Task.Delay(RetryDelay);
                        continue;
                    default:
                        _unexpected.Enqueue($"purchase {purchase}: {(int)response.StatusCode} {body}");
                        return;
                }
            }
        }
    }
}
