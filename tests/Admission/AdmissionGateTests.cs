using System.Net;
using FlashSale.Contracts;
using FlashSale.Engine.Admission;
using FlashSale.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace FlashSale.Tests.Admission;

/// <summary>The door of a waiting-room SKU: only the buyer's own valid admission reserves; a refusal decides nothing.</summary>
[Collection(IngressCollection.Name)]
public sealed class AdmissionGateTests(IngressFactory factory)
{
    [Fact]
    public async Task AReservationWithoutWithAnExpiredOrWithAnotherBuyersTokenIsForbiddenAndChangesNothing()
    {
        var sale = await TestSale.StartAsync(factory, stock: 5, admission: WaitingRoomClient.Queue);
        using var alice = factory.Buyer(12_001);
        using var bob = factory.Buyer(12_002);
        var (aliceTicket, _, _) = await sale.JoinAsync(alice);
        var (bobTicket, _, _) = await sale.JoinAsync(bob);
        var aliceToken = await sale.AdmissionTokenAsync(alice, aliceTicket);
        await sale.AdmissionTokenAsync(bob, bobTicket);
        Assert.True(factory.Services.GetRequiredService<AdmissionTokens>().TryReadTicket(aliceTicket, sale.CampaignId, sale.SkuId, 12_001, out var aliceSequence));
        var expired = factory.Services.GetRequiredService<AdmissionTokens>()
            .MintToken(sale.CampaignId, sale.SkuId, 12_001, aliceSequence, DateTimeOffset.UtcNow.AddSeconds(-1).ToUnixTimeMilliseconds());
        var before = await sale.SnapshotAsync();

        using var none = await sale.ReserveAdmittedAsync(bob, "k-none", null);
        using var someoneElses = await sale.ReserveAdmittedAsync(bob, "k-alice", aliceToken);
        using var stale = await sale.ReserveAdmittedAsync(alice, "k-expired", expired);
        using var garbage = await sale.ReserveAdmittedAsync(alice, "k-garbage", "v1.1.2.not-a-signature");

        foreach (var refused in new[] { none, someoneElses, stale, garbage })
        {
            await refused.AssertProblemAsync(HttpStatusCode.Forbidden, ProblemTypes.AdmissionRequired);
        }
        Assert.Equal(before, await sale.SnapshotAsync());
        Assert.Equal(5, await sale.AvailableAsync());

        using var created = await sale.ReserveAdmittedAsync(alice, "k-1", aliceToken);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(4, await sale.AvailableAsync());
    }

    [Fact]
    public async Task AReplayOfAnOrderTheBuyerHasNeedsNoToken()
    {
        var sale = await TestSale.StartAsync(factory, stock: 5, perUserLimit: 2, admission: WaitingRoomClient.Queue);
        using var buyer = factory.Buyer(12_011);
        var (ticket, _, _) = await sale.JoinAsync(buyer);
        var token = await sale.AdmissionTokenAsync(buyer, ticket);
        using var created = await sale.ReserveAdmittedAsync(buyer, "k-1", token);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var orderNo = (await created.JsonAsync()).GetProperty("orderNo").GetString();

        using var replay = await sale.ReserveAdmittedAsync(buyer, "k-1", null);
        using var another = await sale.ReserveAdmittedAsync(buyer, "k-2", null);

        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        Assert.Equal("true", Assert.Single(replay.Headers.GetValues(ApiHeaders.IdempotentReplayed)));
        Assert.Equal(orderNo, (await replay.JsonAsync()).GetProperty("orderNo").GetString());
        // A new purchase attempt is no replay: it needs the token.
        await another.AssertProblemAsync(HttpStatusCode.Forbidden, ProblemTypes.AdmissionRequired);
        Assert.Equal(4, await sale.AvailableAsync());
    }

    [Fact]
    public async Task JoiningAgainGivesTheSameTicketAndAnotherBuyersTicketIsNotFound()
    {
        // Not started: buyers may join before the sale, and wait in join order.
        var sale = await TestSale.StartAsync(factory, stock: 5, startsIn: TimeSpan.FromHours(1), endsIn: TimeSpan.FromHours(2), admission: WaitingRoomClient.Queue);
        using var first = factory.Buyer(12_021);
        using var second = factory.Buyer(12_022);

        var (ticket, position, state) = await sale.JoinAsync(first);
        var again = await sale.JoinAsync(first);
        var (secondTicket, secondPosition, _) = await sale.JoinAsync(second);

        Assert.Equal((ticket, 1L, QueueStates.Waiting), (ticket, position, state));
        Assert.Equal((ticket, 1L, QueueStates.Waiting), again);
        Assert.Equal(2, secondPosition);
        var (status, body, retryAfter) = await sale.PollAsync(second, secondTicket);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(QueueStates.Waiting, body.GetProperty("state").GetString());
        Assert.Equal(2, body.GetProperty("position").GetInt64());
        Assert.Equal("1", retryAfter);
        Assert.False(body.TryGetProperty("admissionToken", out _));

        var (othersStatus, othersBody, _) = await sale.PollAsync(second, ticket);
        Assert.Equal(HttpStatusCode.NotFound, othersStatus);
        Assert.EndsWith("/" + ProblemTypes.NotFound, othersBody.GetProperty("type").GetString(), StringComparison.Ordinal);
        var (madeUp, _, _) = await sale.PollAsync(second, "1.AAAAAAAAAAAAAAAAAAAAAA");
        Assert.Equal(HttpStatusCode.NotFound, madeUp);
    }

    [Fact]
    public async Task AnOpenSkuHasNoQueueAndNeedsNoToken()
    {
        var sale = await TestSale.StartAsync(factory, stock: 5);
        using var buyer = factory.Buyer(12_031);

        using var join = await buyer.PostAsync(sale.QueuePath, null);
        using var created = await sale.ReserveAsync(buyer, "k-1");

        await join.AssertProblemAsync(HttpStatusCode.NotFound, ProblemTypes.NotFound);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
    }

    [Fact]
    public async Task AnAdmissionOutOfBoundsIsAnInvalidCampaignNamingTheField()
    {
        using var admin = factory.Admin();
        var now = DateTimeOffset.UtcNow;
        using var response = await admin.PostAsync("/api/v1/admin/campaigns", TestSale.Json($$"""
            {
              "campaignId": "{{TestSale.NewCampaignId()}}", "startsAt": "{{TestSale.Iso(now)}}", "endsAt": "{{TestSale.Iso(now.AddHours(1))}}",
              "paymentWindowSeconds": 900, "skus": [ { "skuId": 1, "price": "1.00", "stock": 1, "perUserLimit": 1 } ],
              "admission": { "mode": "queue", "admitFactor": 0.5, "tokenSeconds": 60 }
            }
            """));

        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest, ProblemTypes.InvalidCampaign);
        Assert.True(problem.GetProperty("errors").TryGetProperty("admission.admitFactor", out _));
    }

    [Fact]
    public async Task TheAdmissionIsPartOfTheStoredDefinition()
    {
        var sale = await TestSale.StartAsync(factory, stock: 5, admission: """{"mode":"queue","admitFactor":2.25,"tokenSeconds":30}""");
        using var admin = factory.Admin();

        var campaign = await (await admin.GetAsync($"/api/v1/admin/campaigns/{sale.CampaignId}")).JsonAsync();

        var admission = campaign.GetProperty("admission");
        Assert.Equal((AdmissionModes.Queue, 2.25m, 30), (admission.GetProperty("mode").GetString(), admission.GetProperty("admitFactor").GetDecimal(), admission.GetProperty("tokenSeconds").GetInt32()));
    }
}
