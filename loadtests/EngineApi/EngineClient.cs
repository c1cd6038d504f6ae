using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using FlashSale.Contracts;
using FlashSale.LoadTests.Scenarios;

namespace FlashSale.LoadTests.EngineApi;

/// <summary>The Ingress refused or failed a setup or verification call; the run cannot go on.</summary>
public sealed class SetupException(string message) : Exception(message);

/// <summary>
/// The Ingress's HTTP API as the harness uses it. One <see cref="HttpClient"/> over one
/// <see cref="SocketsHttpHandler"/> for the whole run: its connection pool is the thing being
/// sized, and a client per request would open a connection per request.
/// </summary>
public sealed class EngineClient : IDisposable
{
    public const string ReplayedHeader = ApiHeaders.IdempotentReplayed;
    private static readonly byte[] QuantityOne = "{\"quantity\":1}"u8.ToArray();
    private static readonly Uri PaymentCallbackUri = new(ApiRoutes.PaymentCallbacks, UriKind.Relative);

    /// <summary>Setup and verification calls are few and must not fail because --timeout is tuned tight for the load.</summary>
    public static readonly TimeSpan VerificationTimeout = TimeSpan.FromSeconds(30);

    private readonly HttpClient _http;
    private readonly BuyerTokens _tokens;
    private readonly PaymentSigner? _payments;
    private readonly TimeSpan _reservationTimeout;
    private readonly ConcurrentDictionary<(string CampaignId, long SkuId), Uri> _reservationUris = new();
    private readonly ConcurrentQueue<CancellationTokenSource> _timers = new();

    // Every Ingress the buyers are spread over; the first also takes the setup, admin and verification calls.
    private readonly Target[] _targets;
    private readonly long[] _reservationsPerTarget;

    /// <param name="payments">Signs payment callbacks; null for a client that never sends one.</param>
    /// <param name="rawReservations">Send reservations through <see cref="RawReservations"/> (plain http only) rather than HttpClient.</param>
    public EngineClient(
        Uri baseAddress, int maxConnections, TimeSpan reservationTimeout, BuyerTokens tokens, PaymentSigner? payments = null, bool rawReservations = false)
        : this([baseAddress], maxConnections, reservationTimeout, tokens, payments, rawReservations)
    {
    }

    /// <summary>
    /// A client of several Ingresses (<paramref name="targets"/>), as behind a load balancer that keeps a buyer on one
    /// instance: a buyer's reservations and cancels go to <c>targets[buyerId % count]</c>, a payment callback to
    /// <c>targets[orderNo % count]</c>; everything else to the first. Each target has a pool of up to
    /// <paramref name="maxConnections"/>.
    /// </summary>
    public EngineClient(
        IReadOnlyList<Uri> targets, int maxConnections, TimeSpan reservationTimeout, BuyerTokens tokens, PaymentSigner? payments = null,
        bool rawReservations = false)
    {
        if (targets.Count == 0)
        {
            throw new ArgumentException("At least one Ingress to send to.", nameof(targets));
        }
        _targets = [.. targets.Select(target => new Target(
            NewHttpClient(target, maxConnections, reservationTimeout),
            rawReservations && RawReservations.Supports(target) ? new RawReservations(target, maxConnections, tokens) : null))];
        _reservationsPerTarget = new long[_targets.Length];
        _http = _targets[0].Http;
        _tokens = tokens;
        _payments = payments;
        _reservationTimeout = reservationTimeout;
    }

    private static HttpClient NewHttpClient(Uri baseAddress, int maxConnections, TimeSpan reservationTimeout)
    {
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = maxConnections,
            // Long runs against a load-balanced Ingress should spread over new instances and DNS
            // changes; recycling connections every few minutes does that without a visible cost.
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            ConnectTimeout = TimeSpan.FromSeconds(5),
            // A proxy from the environment would measure the proxy, and cookies or redirects
            // would make requests differ from what a buyer's client sends.
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
        };
        return new HttpClient(handler)
        {
            BaseAddress = baseAddress,
            Timeout = reservationTimeout > VerificationTimeout ? reservationTimeout : VerificationTimeout,
        };
    }

    /// <summary>One Ingress: its HttpClient, and the raw reservation client when reservations go that way.</summary>
    private sealed record Target(HttpClient Http, RawReservations? Raw);

    private int TargetOf(long key) => (int)((ulong)key % (ulong)_targets.Length);

    /// <summary>Every Ingress sent to, with the reservations sent to each so far (retries and replays included).</summary>
    public IReadOnlyList<(Uri Target, long Reservations)> ReservationsPerTarget
        => [.. _targets.Select((t, i) => (t.Http.BaseAddress!, Interlocked.Read(ref _reservationsPerTarget[i])))];

    public Uri BaseAddress => _http.BaseAddress!;

    public async Task<string> ReadinessAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _http.GetAsync(new Uri("/health/ready", UriKind.Relative), cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            return response.IsSuccessStatusCode ? body : $"{(int)response.StatusCode} {body}";
        }
        catch (HttpRequestException ex)
        {
            return ex.Message;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return "no answer within the timeout";
        }
    }

    /// <summary>The rate limits every campaign this client creates carries (<c>--rate-limits</c>); null: the deployment's.</summary>
    public CampaignRateLimitsBody? CampaignRateLimits { get; init; }

    public async Task CreateCampaignAsync(
        string campaignId, DateTime startsAt, DateTime endsAt, int paymentWindowSeconds, IReadOnlyList<CampaignSkuBody> skus,
        CancellationToken cancellationToken, AdmissionBody? admission = null, IReadOnlyList<CouponBody>? coupons = null)
    {
        var body = new CampaignBody(campaignId, startsAt, endsAt, paymentWindowSeconds, skus, CampaignRateLimits, admission, coupons);
        using var request = new HttpRequestMessage(HttpMethod.Post, ApiRoutes.AdminCampaigns)
        {
            Content = JsonContent.Create(body, LoadTestJson.Default.CampaignBody),
        };
        await SendAdminAsync(request, "create the campaign", cancellationToken);
    }

    public async Task WarmUpAsync(string campaignId, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, ApiRoutes.CampaignWarmupPath(campaignId));
        await SendAdminAsync(request, "warm the campaign up", cancellationToken);
    }

    public async Task<SkuStockView> GetSkuAsync(string campaignId, long skuId, CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync(new Uri(ApiRoutes.SkuPath(campaignId, skuId), UriKind.Relative), cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new SetupException(
                $"GET SKU {skuId} of {campaignId}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
        }
        return await response.Content.ReadFromJsonAsync(LoadTestJson.Default.SkuStockView, cancellationToken)
            ?? throw new SetupException($"GET SKU {skuId} of {campaignId} returned an empty body.");
    }

    /// <summary>A buyer joins a waiting room: the ticket (202), or null and why (status and problem type, timeout, transport error).</summary>
    public async Task<(QueueTicketResponse? Ticket, string? Failure)> JoinQueueAsync(string campaignId, long skuId, long buyerId, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(ApiRoutes.QueuePath(campaignId, skuId), UriKind.Relative));
        request.Headers.TryAddWithoutValidation("Authorization", _tokens.For(buyerId));
        var (status, body, _, failure) = await SendQueueAsync(request, cancellationToken);
        return status == 202
            ? (JsonSerializer.Deserialize(body, LoadTestJson.Default.QueueTicketResponse), null)
            : (null, failure ?? Describe(status, body));
    }

    /// <summary>A buyer polls their ticket: its state and the Retry-After the Ingress asks for, or null and why.</summary>
    public async Task<(QueueStatusResponse? Status, TimeSpan? RetryAfter, string? Failure)> PollTicketAsync(
        string campaignId, long skuId, long buyerId, string ticket, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(ApiRoutes.QueueTicketPath(campaignId, skuId, ticket), UriKind.Relative));
        request.Headers.TryAddWithoutValidation("Authorization", _tokens.For(buyerId));
        var (status, body, retryAfter, failure) = await SendQueueAsync(request, cancellationToken);
        return status == 200
            ? (JsonSerializer.Deserialize(body, LoadTestJson.Default.QueueStatusResponse), retryAfter, null)
            : (null, retryAfter, failure ?? Describe(status, body));
    }

    private async Task<(int Status, byte[] Body, TimeSpan? RetryAfter, string? Failure)> SendQueueAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timer.CancelAfter(_reservationTimeout);
        try
        {
            using var response = await _http.SendAsync(request, timer.Token);
            return ((int)response.StatusCode, await response.Content.ReadAsByteArrayAsync(timer.Token), response.Headers.RetryAfter?.Delta, null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (0, [], null, Answer.Timeout);
        }
        catch (HttpRequestException ex)
        {
            return (0, [], null, ex.HttpRequestError.ToString());
        }
        catch (IOException ex)
        {
            return (0, [], null, ex.GetType().Name);
        }
    }

    private static string Describe(int status, ReadOnlySpan<byte> body)
        => ProblemSlug(body) is { } slug ? Invariant($"{status} {slug}") : status.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// One reservation attempt, within --timeout. Never throws for what the server or network did:
    /// every such end is an outcome to count. Only <paramref name="cancellationToken"/> ends it without one.
    /// </summary>
    public Task<ReserveResult> ReserveAsync(ReserveRequest reservation, CancellationToken cancellationToken)
        => ReserveAsync(reservation, _reservationTimeout, cancellationToken);

    public async Task<ReserveResult> ReserveAsync(ReserveRequest reservation, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var index = TargetOf(reservation.BuyerId);
        Interlocked.Increment(ref _reservationsPerTarget[index]);
        var (http, raw) = _targets[index];
        if (raw is not null)
        {
            var deadline = cancellationToken.CanBeCanceled ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken) : RentTimer();
            deadline.CancelAfter(timeout);
            try
            {
                var result = await raw.ReserveAsync(reservation, deadline.Token);
                cancellationToken.ThrowIfCancellationRequested();
                return result;
            }
            finally
            {
                ReturnTimer(deadline, pooled: !cancellationToken.CanBeCanceled);
            }
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, ReservationUri(reservation.CampaignId, reservation.SkuId))
        {
            Content = new ByteArrayContent(reservation.Quantity == 1 && reservation.CouponId is null ? QuantityOne : Body(reservation)),
        };
        // Without validation: the values are known-good, and parsing them per request is measurable at 10k+/s.
        request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
        request.Headers.TryAddWithoutValidation("Authorization", _tokens.For(reservation.BuyerId));
        request.Headers.TryAddWithoutValidation(ApiHeaders.IdempotencyKey, reservation.IdempotencyKey);
        if (reservation.AdmissionToken is not null)
        {
            request.Headers.TryAddWithoutValidation(ApiHeaders.AdmissionToken, reservation.AdmissionToken);
        }

        // The hot path of every run, so it costs the client as little as HttpClient allows: a reused timeout
        // source instead of a new one (and its timer) per request, and the body read into a pooled buffer and
        // classified there instead of buffered into a new array.
        var timer = cancellationToken.CanBeCanceled ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken) : RentTimer();
        timer.CancelAfter(timeout);
        var buffer = ArrayPool<byte>.Shared.Rent(BodyBufferBytes);
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timer.Token);
            var status = (int)response.StatusCode;
            // The whole body, so the connection goes back to the pool; a longer one than expected grows the buffer.
            await using var body = await response.Content.ReadAsStreamAsync(timer.Token);
            var length = 0;
            int read;
            while ((read = await body.ReadAsync(buffer.AsMemory(length), timer.Token)) > 0)
            {
                length += read;
                if (length == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan().CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
            }
            var replayed = status == 200 && response.Headers.TryGetValues(ReplayedHeader, out var values) && values.Contains("true", StringComparer.OrdinalIgnoreCase);
            return Classify(status, buffer.AsSpan(0, length), replayed);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new ReserveResult(Outcome.Timeout);
        }
        catch (HttpRequestException ex)
        {
            return new ReserveResult(Outcome.TransportError, Detail: ex.HttpRequestError.ToString());
        }
        catch (IOException ex)
        {
            return new ReserveResult(Outcome.TransportError, Detail: ex.GetType().Name);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            ReturnTimer(timer, pooled: !cancellationToken.CanBeCanceled);
        }
    }

    /// <summary>Bigger than any answer of the reservation route (a problem+json is about 300 bytes); a longer body grows it.</summary>
    private const int BodyBufferBytes = 2048;

    private CancellationTokenSource RentTimer() => _timers.TryDequeue(out var timer) ? timer : new CancellationTokenSource();

    /// <summary>A source whose timeout did not fire goes back for the next request; TryReset stops its timer and drops its registrations.</summary>
    private void ReturnTimer(CancellationTokenSource timer, bool pooled)
    {
        if (pooled && timer.TryReset())
        {
            _timers.Enqueue(timer);
            return;
        }
        timer.Dispose();
    }

    /// <param name="markedReplayed">The answer carried <c>Idempotent-Replayed: true</c>, as every replay (200) must.</param>
    public static ReserveResult Classify(int status, ReadOnlySpan<byte> body, bool markedReplayed)
    {
        switch (status)
        {
            case 201:
                return new ReserveResult(Outcome.Created, ReadString(body, "orderNo"u8));
            case 200:
                return new ReserveResult(Outcome.Replayed, ReadString(body, "orderNo"u8),
                    markedReplayed ? null : $"200 without {ReplayedHeader}: true");
            case 404:
                return new ReserveResult(Outcome.NotFound);
        }
        var slug = ProblemSlug(body);
        // Refusals of admission control: nothing was decided, so neither is an unknown outcome.
        if (status == 429 && slug == ProblemTypes.RateLimited)
        {
            return new ReserveResult(Outcome.RateLimited);
        }
        if (status == 503 && slug == ProblemTypes.Busy)
        {
            return new ReserveResult(Outcome.Busy);
        }
        if (status == 403 && slug == ProblemTypes.AdmissionRequired)
        {
            return new ReserveResult(Outcome.AdmissionRequired);
        }
        if (status == 409)
        {
            switch (slug)
            {
                case ProblemTypes.SoldOut:
                    return new ReserveResult(Outcome.SoldOut);
                case ProblemTypes.PurchaseLimit:
                    return new ReserveResult(Outcome.PurchaseLimit);
                case ProblemTypes.NotStarted:
                    return new ReserveResult(Outcome.NotStarted);
                case ProblemTypes.Ended:
                    return new ReserveResult(Outcome.Ended);
                case ProblemTypes.CouponUnavailable:
                    return new ReserveResult(Outcome.CouponUnavailable);
            }
        }
        var detail = slug is null ? status.ToString(CultureInfo.InvariantCulture) : $"{status} {slug}";
        return status switch
        {
            >= 400 and < 500 => new ReserveResult(Outcome.OtherClientError, Detail: detail),
            >= 500 => new ReserveResult(Outcome.ServerError, Detail: detail),
            _ => new ReserveResult(Outcome.Unexpected, Detail: detail),
        };
    }

    /// <summary>
    /// A follow-up about an order, within --timeout. Like <see cref="ReserveAsync(ReserveRequest, CancellationToken)"/>
    /// it never throws for what the server or network did.
    /// </summary>
    public Task<FollowUpResult> FollowUpAsync(FollowUpAction action, CancellationToken cancellationToken) => action switch
    {
        PayOrder pay => PayAsync(pay, cancellationToken),
        CancelOrder cancel => CancelAsync(cancel, cancellationToken),
        _ => throw new ArgumentOutOfRangeException(nameof(action), action, "Unknown follow-up."),
    };

    /// <summary>The payment provider's signed callback: <c>POST /api/v1/payments/callbacks</c>, status succeeded.</summary>
    public async Task<FollowUpResult> PayAsync(PayOrder pay, CancellationToken cancellationToken)
    {
        var signer = _payments ?? throw new InvalidOperationException("This client was made without a payment signer.");
        // The values are digits, the harness's own transaction ids and a decimal amount: nothing to escape.
        var body = Encoding.UTF8.GetBytes(
            $$"""{"orderNo":"{{pay.OrderNo}}","providerTxnId":"{{pay.ProviderTxnId}}","amount":"{{pay.Amount}}","status":"succeeded"}""");
        var (timestamp, signature) = signer.Sign(body);
        using var request = new HttpRequestMessage(HttpMethod.Post, PaymentCallbackUri) { Content = new ByteArrayContent(body) };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
        request.Headers.TryAddWithoutValidation(ApiHeaders.Timestamp, timestamp);
        request.Headers.TryAddWithoutValidation(ApiHeaders.Signature, signature);
        return await SendFollowUpAsync(_targets[TargetOf(long.TryParse(pay.OrderNo, out var orderNo) ? orderNo : pay.BuyerId)].Http, request, static (status, body) => status switch
        {
            200 => new FollowUpResult(ReadString(body, "outcome"u8) switch
            {
                PaymentOutcomes.Applied => FollowUpOutcome.Applied,
                PaymentOutcomes.RefundRequired => FollowUpOutcome.RefundRequired,
                PaymentOutcomes.Failed => FollowUpOutcome.PaymentFailed,
                _ => FollowUpOutcome.Unexpected,
            }, ReadString(body, "orderStatus"u8)),
            409 when ProblemSlug(body) == ProblemTypes.AmountMismatch => new FollowUpResult(FollowUpOutcome.AmountMismatch),
            _ => null,
        }, cancellationToken);
    }

    /// <summary>The buyer's cancel: <c>POST /api/v1/orders/{orderNo}/cancel</c> with their token.</summary>
    public async Task<FollowUpResult> CancelAsync(CancelOrder cancel, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(ApiRoutes.OrderCancelPath(cancel.OrderNo), UriKind.Relative));
        request.Headers.TryAddWithoutValidation("Authorization", _tokens.For(cancel.BuyerId));
        return await SendFollowUpAsync(_targets[TargetOf(cancel.BuyerId)].Http, request, static (status, body) => status switch
        {
            200 => new FollowUpResult(FollowUpOutcome.Cancelled, ReadString(body, "status"u8)),
            409 when ProblemSlug(body) == ProblemTypes.OrderPaid => new FollowUpResult(FollowUpOutcome.OrderPaid, OrderStatus.Paid),
            _ => null,
        }, cancellationToken);
    }

    /// <summary>Sends a follow-up; <paramref name="classify"/> names the answers particular to it, the rest are classified alike.</summary>
    private async Task<FollowUpResult> SendFollowUpAsync(
        HttpClient http, HttpRequestMessage request, Func<int, byte[], FollowUpResult?> classify, CancellationToken cancellationToken)
    {
        var answer = await SendAsync(http, request, _reservationTimeout, cancellationToken);
        if (answer.Failure is not null)
        {
            return answer.Failure == Answer.Timeout
                ? new FollowUpResult(FollowUpOutcome.Timeout)
                : new FollowUpResult(FollowUpOutcome.TransportError, Detail: answer.Failure);
        }
        var status = answer.Status;
        if (classify(status, answer.Body) is { } particular)
        {
            return particular;
        }
        var slug = ProblemSlug(answer.Body);
        if (status == 503 && slug == ProblemTypes.OrderNotYetPersisted)
        {
            return new FollowUpResult(FollowUpOutcome.NotYetPersisted, RetryAfter: answer.RetryAfter);
        }
        var detail = slug is null ? status.ToString(CultureInfo.InvariantCulture) : $"{status} {slug}";
        return status switch
        {
            404 => new FollowUpResult(FollowUpOutcome.NotFound),
            >= 400 and < 500 => new FollowUpResult(FollowUpOutcome.OtherClientError, Detail: detail),
            >= 500 => new FollowUpResult(FollowUpOutcome.ServerError, RetryAfter: answer.RetryAfter, Detail: detail),
            _ => new FollowUpResult(FollowUpOutcome.Unexpected, Detail: detail),
        };
    }

    /// <summary>
    /// One SKU's ledger as the admin endpoint reports it. The view is null unless the answer was 200; then
    /// <c>Status</c> and <c>Body</c> say what came instead (a 404 with an empty body: the endpoint is missing).
    /// </summary>
    public async Task<(SkuLedgerView? View, int Status, string Body)> GetLedgerAsync(string campaignId, long skuId, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(ApiRoutes.SkuLedgerPath(campaignId, skuId), UriKind.Relative));
        request.Headers.TryAddWithoutValidation("Authorization", _tokens.Admin);
        using var response = await _http.SendAsync(request, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            return (null, (int)response.StatusCode, body);
        }
        try
        {
            return (JsonSerializer.Deserialize(body, LoadTestJson.Default.SkuLedgerView), 200, body);
        }
        catch (JsonException)
        {
            return (null, 200, body);
        }
    }

    /// <summary>Recorded payment callbacks with one outcome, newest first, at most <paramref name="limit"/> (the endpoint's cap is 500).</summary>
    public async Task<IReadOnlyList<PaymentAdminView>> ListPaymentsAsync(string outcome, int limit, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(ApiRoutes.AdminPaymentsPath(outcome, limit), UriKind.Relative));
        request.Headers.TryAddWithoutValidation("Authorization", _tokens.Admin);
        using var response = await _http.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new SetupException($"GET payments ({outcome}): {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
        }
        return await response.Content.ReadFromJsonAsync(LoadTestJson.Default.IReadOnlyListPaymentAdminView, cancellationToken) ?? [];
    }

    /// <summary>
    /// The buyer's view of one order. Never throws for what the server or network did: a 404 is
    /// <see cref="OrderLookupStatus.NotFound"/> (not yet indexed, lost, or another buyer's), anything
    /// else unexpected is <see cref="OrderLookupStatus.Failed"/> with the reason.
    /// </summary>
    public async Task<OrderLookup> GetOrderAsync(long buyerId, string orderNo, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(ApiRoutes.OrderPath(orderNo), UriKind.Relative));
        request.Headers.TryAddWithoutValidation("Authorization", _tokens.For(buyerId));
        var (order, failure) = await ReadAsync(request, LoadTestJson.Default.OrderResponse, timeout, cancellationToken);
        return failure switch
        {
            null => new OrderLookup(OrderLookupStatus.Found, order, null),
            "404" => new OrderLookup(OrderLookupStatus.NotFound, null, failure),
            _ => new OrderLookup(OrderLookupStatus.Failed, null, failure),
        };
    }

    /// <summary>One page of the buyer's orders, newest first; null when the Ingress refused or failed (the reason in <paramref name="failure"/>).</summary>
    public async Task<(OrderListResponse? Page, string? Failure)> ListOrdersAsync(
        long buyerId, string? cursor, int limit, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(ApiRoutes.OrdersPath(limit, cursor), UriKind.Relative));
        request.Headers.TryAddWithoutValidation("Authorization", _tokens.For(buyerId));
        return await ReadAsync(request, LoadTestJson.Default.OrderListResponse, timeout, cancellationToken);
    }

    /// <summary>
    /// Sends within <paramref name="timeout"/> (the same per-request timer HttpClient.Timeout would set up, covering the
    /// body too). Never throws for what the server or network did: that is <see cref="Answer.Failure"/>.
    /// </summary>
    private static async Task<Answer> SendAsync(HttpClient http, HttpRequestMessage request, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var timer = cancellationToken.CanBeCanceled
            ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken)
            : new CancellationTokenSource();
        timer.CancelAfter(timeout);
        try
        {
            using var response = await http.SendAsync(request, timer.Token);
            var body = await response.Content.ReadAsByteArrayAsync(timer.Token);
            var status = (int)response.StatusCode;
            return new Answer(
                status, body,
                status == 200 && response.Headers.TryGetValues(ReplayedHeader, out var replayed) && replayed.Contains("true", StringComparer.OrdinalIgnoreCase),
                status >= 500 ? response.Headers.RetryAfter?.Delta : null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new Answer(0, [], false, null, Answer.Timeout);
        }
        catch (HttpRequestException ex)
        {
            return new Answer(0, [], false, null, ex.HttpRequestError.ToString());
        }
        catch (IOException ex)
        {
            return new Answer(0, [], false, null, ex.GetType().Name);
        }
    }

    /// <summary>A 200's body as <typeparamref name="T"/>; else null and why: the status code, <c>timeout</c>, or what failed.</summary>
    private async Task<(T? Value, string? Failure)> ReadAsync<T>(
        HttpRequestMessage request, JsonTypeInfo<T> json, TimeSpan timeout, CancellationToken cancellationToken) where T : class
    {
        var answer = await SendAsync(_http, request, timeout, cancellationToken);
        if (answer.Failure is not null || answer.Status != 200)
        {
            return (null, answer.Failure ?? answer.Status.ToString(CultureInfo.InvariantCulture));
        }
        try
        {
            return JsonSerializer.Deserialize(answer.Body, json) is { } value ? (value, null) : (null, "empty body");
        }
        catch (JsonException)
        {
            return (null, nameof(JsonException));
        }
    }

    /// <summary>What came back, or why nothing did (<see cref="Failure"/>: <see cref="Timeout"/> or a transport error).</summary>
    private readonly record struct Answer(int Status, byte[] Body, bool MarkedReplayed, TimeSpan? RetryAfter, string? Failure = null)
    {
        public const string Timeout = "timeout";
    }

    /// <summary>The slug of a problem+json <c>type</c>: clients branch on it, never on the human text.</summary>
    private static string? ProblemSlug(ReadOnlySpan<byte> body) => ProblemTypes.Slug(ReadString(body, "type"u8));

    /// <summary>A top-level string property, or null when the body is not JSON or lacks it.</summary>
    private static string? ReadString(ReadOnlySpan<byte> json, ReadOnlySpan<byte> property)
    {
        if (json.IsEmpty)
        {
            return null;
        }
        var reader = new Utf8JsonReader(json);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var match = reader.ValueTextEquals(property);
                reader.Read();
                if (match)
                {
                    return reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                }
                reader.Skip();
            }
        }
        catch (JsonException)
        {
            // A truncated or non-JSON body (a proxy's error page) simply has no such property.
        }
        return null;
    }

    private Uri ReservationUri(string campaignId, long skuId)
        => _reservationUris.GetOrAdd((campaignId, skuId), static key =>
            new Uri(ApiRoutes.ReservationsPath(key.CampaignId, key.SkuId), UriKind.Relative));

    /// <summary>A reservation's body: its quantity, and its coupon when it takes one (ids are visible ASCII without quotes).</summary>
    internal static byte[] Body(ReserveRequest reservation) => Encoding.UTF8.GetBytes(reservation.CouponId is null
        ? string.Create(CultureInfo.InvariantCulture, $"{{\"quantity\":{reservation.Quantity}}}")
        : string.Create(CultureInfo.InvariantCulture, $"{{\"quantity\":{reservation.Quantity},\"couponId\":\"{reservation.CouponId}\"}}"));

    /// <summary>A coupon pool's ledger as the admin endpoint reports it; null when the answer was not a 200 with one.</summary>
    public async Task<CouponLedgerView?> GetCouponLedgerAsync(string campaignId, string couponId, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(ApiRoutes.CouponLedgerPath(campaignId, couponId), UriKind.Relative));
        request.Headers.TryAddWithoutValidation("Authorization", _tokens.Admin);
        using var response = await _http.SendAsync(request, cancellationToken);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            return null;
        }
        try
        {
            return JsonSerializer.Deserialize(await response.Content.ReadAsStringAsync(cancellationToken), LoadTestJson.Default.CouponLedgerView);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private async Task SendAdminAsync(HttpRequestMessage request, string what, CancellationToken cancellationToken)
    {
        request.Headers.TryAddWithoutValidation("Authorization", _tokens.Admin);
        using var response = await _http.SendAsync(request, cancellationToken);
        if (response.IsSuccessStatusCode)
        {
            return;
        }
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        var hint = response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden
            ? $" Is {BuyerTokens.SigningKeyVariable} the Ingress's Auth:SigningKey?"
            : "";
        throw new SetupException($"Could not {what}: {(int)response.StatusCode} {body}{hint}");
    }

    public void Dispose()
    {
        foreach (var (http, raw) in _targets)
        {
            http.Dispose();
            raw?.Dispose();
        }
        while (_timers.TryDequeue(out var timer))
        {
            timer.Dispose();
        }
    }
}
