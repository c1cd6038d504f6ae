using System.Net;
using FlashSale.Tests.Infrastructure;

namespace FlashSale.Tests.Operations;

/// <summary>
/// The Ingress's Prometheus endpoint, in process. Every in-process host of the test run records into a meter
/// named FlashSale, so other collections running alongside may add to the same counters: the tests compare a
/// scrape before and after their own requests and ask for at least their own increments.
/// </summary>
[Collection(IngressCollection.Name)]
public sealed class MetricsTests(IngressFactory factory)
{
    private const string Reservations = "flashsale_reservations_total";
    private const string ScriptCount = "flashsale_redis_script_duration_milliseconds_count";
    private const string ScriptSum = "flashsale_redis_script_duration_milliseconds_sum";

    [Fact]
    public async Task MetricsCountAReservationAndASoldOutRefusalAndTimeTheirLuaCalls()
    {
        var sale = await TestSale.StartAsync(factory, stock: 2, perUserLimit: 2);
        using var client = factory.CreateClient();
        using var first = factory.Buyer(9_100_001);
        using var second = factory.Buyer(9_100_002);
        var before = await PrometheusScrape.FetchAsync(client);

        using var created = await sale.ReserveAsync(first, "m-1");
        // One unit is left, two are asked for: Redis itself says sold out (nothing is cached while stock remains).
        using var refused = await sale.ReserveAsync(second, "m-2", quantity: 2);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        await refused.AssertProblemAsync(HttpStatusCode.Conflict, "sold-out");

        var after = await ScrapeUntilAsync(client, s => s.Sum(Reservations, ("outcome", "sold-out")) > before.Sum(Reservations, ("outcome", "sold-out")));
        Assert.True(after.Declares(Reservations, "counter"));
        Assert.True(after.Declares("flashsale_redis_script_duration_milliseconds", "histogram"));
        Assert.True(after.Sum(Reservations, ("outcome", "created")) >= before.Sum(Reservations, ("outcome", "created")) + 1);
        Assert.True(after.Sum(Reservations, ("outcome", "sold-out")) >= before.Sum(Reservations, ("outcome", "sold-out")) + 1);
        Assert.True(after.Sum(ScriptCount, ("script", "reserve-many")) >= before.Sum(ScriptCount, ("script", "reserve-many")) + 2);
        Assert.True(after.Sum(ScriptSum, ("script", "reserve-many")) > before.Sum(ScriptSum, ("script", "reserve-many")));
        // Sub-millisecond buckets (the engine's own boundaries, not the SDK's default 0, 5, 10, ... ms).
        Assert.Single(after.Series("flashsale_redis_script_duration_milliseconds_bucket", ("script", "reserve-many"), ("le", "0.25")));
    }

    [Fact]
    public async Task SoldOutAnswersFromMemoryAreCountedApartFromRedisAnswers()
    {
        var sale = await TestSale.StartAsync(factory, stock: 1);
        using var client = factory.CreateClient();
        using var owner = factory.Buyer(9_100_011);
        using var late = factory.Buyer(9_100_012);
        var before = await PrometheusScrape.FetchAsync(client);

        using var created = await sale.ReserveAsync(owner, "owner");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        // The sell-out makes Ingress take a snapshot; from then on late buyers are answered from memory.
        var cached = before.Sum(Reservations, ("outcome", "sold-out-cached"));
        var attempt = 0;
        await Eventually.HoldsAsync(async () =>
        {
            using var refused = await sale.ReserveAsync(late, $"late-{attempt++}");
            await refused.AssertProblemAsync(HttpStatusCode.Conflict, "sold-out");
            return (await PrometheusScrape.FetchAsync(client)).Sum(Reservations, ("outcome", "sold-out-cached")) > cached;
        });

        var after = await PrometheusScrape.FetchAsync(client);
        Assert.True(after.Sum(Reservations, ("outcome", "created")) >= before.Sum(Reservations, ("outcome", "created")) + 1);
        // Each refusal was counted once, as one of the two kinds.
        var refusals = after.Sum(Reservations, ("outcome", "sold-out")) + after.Sum(Reservations, ("outcome", "sold-out-cached"))
            - before.Sum(Reservations, ("outcome", "sold-out")) - before.Sum(Reservations, ("outcome", "sold-out-cached"));
        Assert.True(refusals >= attempt, $"{refusals} sold-out answers counted for {attempt} refusals");
    }

    [Fact]
    public async Task MetricsEndpointNeedsNoTokenAndServesRuntimeAndHttpMetrics()
    {
        using var client = factory.CreateClient();
        using var health = await client.GetAsync("/health/live");

        Assert.Equal(HttpStatusCode.OK, health.StatusCode);

        // The request's duration is recorded as it ends, and scrapes are cached for a moment: wait for it.
        var scrape = await ScrapeUntilAsync(client, s => s.Series("http_server_request_duration_seconds_count", ("http_route", "/health/live")).Any());

        Assert.True(scrape.Declares("http_server_request_duration_seconds", "histogram"));
        Assert.True(scrape.Sum("http_server_request_duration_seconds_count", ("http_route", "/health/live"), ("http_response_status_code", "200")) >= 1);
        // The scrape endpoint keeps its own requests out of the HTTP metrics.
        Assert.DoesNotContain(scrape.Series("http_server_request_duration_seconds_count"), s => s.Labels.GetValueOrDefault("http_route") == "/metrics");
        Assert.Equal(Environment.ProcessorCount, scrape.Sum("dotnet_process_cpu_count"));
        Assert.Contains(scrape.Series("target_info"), s => s.Labels.GetValueOrDefault("service_name") == "flashsale-ingress");
        // The framework's meters that record on every request beyond the request's own (routing, authentication, rate limiting, ...)
        // are off unless OpenTelemetry:ExtraMeters names them.
        Assert.False(scrape.Declares("aspnetcore_routing_match_attempts_total", "counter"));
        Assert.False(scrape.Declares("aspnetcore_authentication_authenticate_duration_seconds", "histogram"));
    }

    [Fact]
    public async Task MetricsCountPaymentsCancellationsAndReleasedUnits()
    {
        var sale = await TestSale.StartAsync(factory, stock: 5, perUserLimit: 3, price: "10.00");
        using var client = factory.CreateClient();
        using var payer = factory.Buyer(9_100_021);
        using var canceller = factory.Buyer(9_100_022);
        using var paidOrder = await sale.ReserveAsync(payer, "pay");
        using var cancelledOrder = await sale.ReserveAsync(canceller, "cancel", quantity: 3);
        var paidNo = (await paidOrder.JsonAsync()).GetProperty("orderNo").GetString()!;
        var cancelledNo = (await cancelledOrder.JsonAsync()).GetProperty("orderNo").GetString()!;
        await ShardOrders.PersistAsync(factory, sale);
        var before = await PrometheusScrape.FetchAsync(client);

        using (var paid = await PaymentProvider.CallbackAsync(client, paidNo, "txn-m-" + paidNo, "10.00"))
        using (var retried = await PaymentProvider.CallbackAsync(client, paidNo, "txn-m-" + paidNo, "10.00"))
        using (var cancelled = await canceller.PostAsync($"/api/v1/orders/{cancelledNo}/cancel", null))
        {
            Assert.Equal(HttpStatusCode.OK, paid.StatusCode);
            Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
            Assert.Equal(HttpStatusCode.OK, cancelled.StatusCode);
        }

        const string Callbacks = "flashsale_payments_callbacks_total";
        const string Cancelled = "flashsale_orders_cancelled_total";
        const string Released = "flashsale_stock_released_total";
        var after = await ScrapeUntilAsync(client, s => s.Sum(Released) >= before.Sum(Released) + 3);
        Assert.True(after.Sum(Callbacks, ("outcome", "applied")) >= before.Sum(Callbacks, ("outcome", "applied")) + 1);
        Assert.True(after.Sum(Callbacks, ("outcome", "replayed")) >= before.Sum(Callbacks, ("outcome", "replayed")) + 1);
        Assert.True(after.Sum(Cancelled, ("reason", "buyer-cancelled")) >= before.Sum(Cancelled, ("reason", "buyer-cancelled")) + 1);
        // What the counter says came back did: the cancelled order's three units; the paid one stays sold.
        Assert.Equal(4, await sale.AvailableAsync());
    }

    /// <summary>The exporter caches a scrape for a moment; a fresh one shows what just happened.</summary>
    private static async Task<PrometheusScrape> ScrapeUntilAsync(HttpClient client, Func<PrometheusScrape, bool> condition)
    {
        PrometheusScrape? scrape = null;
        await Eventually.HoldsAsync(async () => condition(scrape = await PrometheusScrape.FetchAsync(client)), TimeSpan.FromSeconds(10));
        return scrape!;
    }
}
