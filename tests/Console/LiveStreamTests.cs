using System.Net;
using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Text.Json;
using FlashSale.Contracts;
using FlashSale.Tests.Infrastructure;

namespace FlashSale.Tests.Console;

/// <summary>The live stream as a client reads it, with two Ingress processes selling at once.</summary>
[Collection(PipelineCollection.Name)]
[Trait("Category", "Slow")]
public sealed class LiveStreamTests(PipelineFixture engine) : IClassFixture<PipelineFixture>
{
    [Fact]
    public async Task RatesAreTheWholeDeploymentsAndEachSkuIsReadFromRedis()
    {
        await using var second = EngineProcess.Listening("Ingress 2", "Ingress", engine.Environment([("Engine__NodeId", "3")]));
        await second.StartAsync();
        var campaignId = await engine.StartSaleAsync((7001, 500, 5));
        using var admin = engine.Client(engine.Tokens.Mint(1, admin: true));
        using var request = new HttpRequestMessage(HttpMethod.Get, ApiRoutes.AdminLive);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        using var response = await admin.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var updates = SseParser.Create(await response.Content.ReadAsStreamAsync(timeout.Token),
            (_, data) => JsonSerializer.Deserialize<LiveUpdate>(data, JsonSerializerOptions.Web)!)
            .EnumerateAsync(timeout.Token).GetAsyncEnumerator(timeout.Token);

        // 30 buyers through the first Ingress, 20 through the second; two units each.
        var sold = await Task.WhenAll(Enumerable.Range(0, 50).Select(async i =>
        {
            using var buyer = new HttpClient { BaseAddress = i < 30 ? engine.IngressUrl : second.Url };
            buyer.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", engine.Tokens.Mint(20_000 + i));
            using var reserved = await TestSale.SendReservationAsync(buyer, ApiRoutes.ReservationsPath(campaignId, 7001), $"live-{i}", """{"quantity":2}""");
            return reserved.StatusCode;
        }));
        Assert.All(sold, status => Assert.Equal(HttpStatusCode.Created, status));

        // Every second's counts arrive once: summed over the updates, they are both processes' answers.
        long created = 0;
        var reportingMax = 0;
        LiveSkuView? sku = null;
        var seconds = new HashSet<long>();
        while (created < 50 || sku?.Available != 400)
        {
            Assert.True(await updates.MoveNextAsync(), "the stream ended");
            var update = updates.Current.Data;
            Assert.Equal("update", updates.Current.EventType);
            if (seconds.Add(update.Second))
            {
                created += update.Outcomes.GetValueOrDefault("created");
                reportingMax = Math.Max(reportingMax, update.Reporting);
            }
            sku = update.Campaigns.Single(c => c.CampaignId == campaignId).Skus.Single();
            Assert.Null(update.Error);
        }
        Assert.Equal(50, created);
        Assert.Equal(500, sku.Total);
        Assert.Equal(100, sku.Reserved + sku.Sold);
        Assert.Equal(SkuState.OnSale, sku.State);
        Assert.InRange(reportingMax, 1, 2);
        // The Persisters' backlog is read from Kafka's offsets, which this deployment has.
        Assert.NotNull(updates.Current.Data.KafkaLag);
    }
}
