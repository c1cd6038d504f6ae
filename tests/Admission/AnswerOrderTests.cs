using System.Net;
using FlashSale.Contracts;
using FlashSale.Tests.Infrastructure;

namespace FlashSale.Tests.Admission;

/// <summary>
/// The order of the refusals before a decision: the waiting room's 403 <c>admission-required</c> comes before the rate
/// limits' 429 <c>rate-limited</c>, so a buyer without an admission never spends their tokens, and an admitted buyer
/// who floods is limited like any other.
/// </summary>
[Collection(IngressCollection.Name)]
public sealed class AnswerOrderTests(IngressFactory factory)
{
    [Fact]
    public async Task TheWaitingRoomRefusesBeforeTheRateLimitsAndTheLimitsStillApplyToTheAdmitted()
    {
        var sale = await TestSale.StartAsync(factory, stock: 100, perUserLimit: 100, admission: WaitingRoomClient.Queue,
            rateLimits: """{"perBuyer":{"permitsPerSecond":1,"burst":3}}""");
        using var buyer = factory.Buyer(13_001);

        var withoutToken = await Task.WhenAll(Enumerable.Range(0, 12).Select(async i =>
        {
            using var response = await sale.ReserveAdmittedAsync(buyer, $"no-token-{i}", null);
            return (await response.AssertProblemAsync(HttpStatusCode.Forbidden, ProblemTypes.AdmissionRequired)).GetProperty("status").GetInt32();
        }));
        Assert.All(withoutToken, status => Assert.Equal(403, status));

        // The refusals above took none of the buyer's tokens: with an admission, the whole burst is there.
        var (ticket, _, _) = await sale.JoinAsync(buyer);
        var token = await sale.AdmissionTokenAsync(buyer, ticket);
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 8; i++)
        {
            using var response = await sale.ReserveAdmittedAsync(buyer, $"admitted-{i}", token);
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                await response.AssertProblemAsync(HttpStatusCode.TooManyRequests, ProblemTypes.RateLimited);
            }
        }
        Assert.True(statuses.Take(3).All(s => s == HttpStatusCode.Created), string.Join(", ", statuses));
        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
        Assert.Equal(100 - statuses.Count(s => s == HttpStatusCode.Created), await sale.AvailableAsync());
    }
}
