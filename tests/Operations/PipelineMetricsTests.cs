using FlashSale.Tests.Infrastructure;
using FlashSale.Tests.Pipeline;

namespace FlashSale.Tests.Operations;

/// <summary>
/// The Persister's and the relay's metrics, scraped from the real processes after a small sale drained.
/// The fixture is this class's alone, so its Persister wrote exactly this sale's orders.
/// </summary>
[Collection(PipelineCollection.Name)]
[Trait("Category", "Slow")]
public sealed class PipelineMetricsTests(PipelineFixture engine) : IClassFixture<PipelineFixture>
{
    [Fact]
    public async Task AfterASaleDrainsThePersisterShowsItsBatchesRowsAndVisibilityLag()
    {
        var campaignId = await engine.StartSaleAsync((501, 40, 2));
        using var persister = new HttpClient { BaseAddress = engine.PersisterUrl };
        // The other test of this class may have sold before; its numbers are taken out.
        var before = await PrometheusScrape.FetchAsync(persister);
        var successes = await SaleTraffic.ReserveAsync(engine, campaignId, [501], attempts: 60, buyers: 60, parallelism: 8);
        await engine.DrainAsync(campaignId, successes.Count);
        var orders = successes.Count;
        Assert.InRange(orders, 20, 40);

        PrometheusScrape after = null!;
        double Delta(string name, params (string, string)[] labels) => after.Sum(name, labels) - before.Sum(name, labels);
        await Eventually.HoldsAsync(async () =>
        {
            after = await PrometheusScrape.FetchAsync(persister);
            return Delta("flashsale_persister_rows_total", ("result", "inserted")) >= orders;
        }, TimeSpan.FromSeconds(30));

        // Exactly this sale's orders were inserted, every event went through one batch, and none arrived twice.
        Assert.Equal(orders, Delta("flashsale_persister_rows_total", ("result", "inserted")));
        Assert.Equal(orders, Delta("flashsale_persister_batch_size_sum"));
        var batches = Delta("flashsale_persister_batch_size_count");
        Assert.InRange(batches, 1, orders);
        Assert.Equal(batches, Delta("flashsale_persister_batch_duration_milliseconds_count"));
        Assert.True(Delta("flashsale_persister_batch_duration_milliseconds_sum") > 0);
        Assert.Equal(0, after.Sum("flashsale_persister_rows_total", ("result", "duplicate")));

        // One visibility-lag observation per order, from its createdAt to its commit: positive, and below the drain timeout.
        Assert.Equal(orders, Delta("flashsale_persister_visibility_lag_milliseconds_count"));
        Assert.InRange(Delta("flashsale_persister_visibility_lag_milliseconds_sum") / orders, 0.001, 90_000);
        Assert.Equal(orders, Delta("flashsale_persister_visibility_lag_milliseconds_bucket", ("le", "+Inf")));

        // Drained: every partition this Persister holds and has seen data on reports no lag.
        await Eventually.HoldsAsync(async () =>
        {
            var lag = (await PrometheusScrape.FetchAsync(persister)).Series("flashsale_persister_consumer_lag").ToList();
            return lag.Count > 0 && lag.All(s => s.Value == 0);
        }, TimeSpan.FromSeconds(30));

        using var ready = await persister.GetAsync("/health/ready");
        Assert.Equal("Healthy", await ready.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task TheRelayCountsEveryDeliveryAndItsLag()
    {
        var campaignId = await engine.StartSaleAsync((502, 30, 1));
        using var ingress = engine.Client();
        var before = await PrometheusScrape.FetchAsync(ingress);
        var successes = await SaleTraffic.ReserveAsync(engine, campaignId, [502], attempts: 30, buyers: 30, parallelism: 8, firstBuyer: 50_000);
        await engine.DrainAsync(campaignId, successes.Count);

        PrometheusScrape after = null!;
        await Eventually.HoldsAsync(async () =>
        {
            after = await PrometheusScrape.FetchAsync(ingress);
            return after.Sum("flashsale_relay_delivered_total") - before.Sum("flashsale_relay_delivered_total") >= successes.Count;
        }, TimeSpan.FromSeconds(30));

        Assert.Equal(successes.Count, after.Sum("flashsale_reservations_total", ("outcome", "created")) - before.Sum("flashsale_reservations_total", ("outcome", "created")));
        var delivered = after.Sum("flashsale_relay_delivered_total") - before.Sum("flashsale_relay_delivered_total");
        // One lag value per record: a batch's record carries several events.
        Assert.InRange(after.Sum("flashsale_relay_lag_milliseconds_count") - before.Sum("flashsale_relay_lag_milliseconds_count"), 1, delivered);
        Assert.True(after.Sum("flashsale_relay_lag_milliseconds_sum") > before.Sum("flashsale_relay_lag_milliseconds_sum"));
        Assert.Contains(after.Series("target_info"), s => s.Labels.GetValueOrDefault("service_name") == "flashsale-ingress");
    }
}
