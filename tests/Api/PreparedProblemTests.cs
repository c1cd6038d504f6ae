using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using FlashSale.Contracts;
using FlashSale.Ingress.Infrastructure;
using FlashSale.Ingress.Reservations;
using FlashSale.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace FlashSale.Tests.Api;

/// <summary>
/// The reservation endpoint's high-volume refusals are written from prepared bytes; each must be the same
/// answer the problem details service gave for it before: status, headers and JSON.
/// </summary>
[Collection(IngressCollection.Name)]
public sealed class PreparedProblemTests(IngressFactory factory)
{
    /// <summary>Each refusal as the endpoint built it through ProblemDetails: status, slug, title, detail, Retry-After.</summary>
    public static TheoryData<string, int, string, string, string, string?> Refusals => new()
    {
        { nameof(ReservationsApi.Refusals.SoldOut), 409, ProblemTypes.SoldOut, "Sold out", "This SKU is sold out.", null },
        { nameof(ReservationsApi.Refusals.PurchaseLimit), 409, ProblemTypes.PurchaseLimit, "Purchase limit reached", "This would take you over the campaign's per-buyer limit for this SKU.", null },
        { nameof(ReservationsApi.Refusals.NotStarted), 409, ProblemTypes.NotStarted, "Not started", "The campaign has not started yet.", null },
        { nameof(ReservationsApi.Refusals.Ended), 409, ProblemTypes.Ended, "Ended", "The campaign has ended.", null },
        { nameof(ReservationsApi.Refusals.IdempotencyKeyReused), 422, ProblemTypes.IdempotencyKeyReused, "Idempotency-Key reused", "This Idempotency-Key already made an order with a different request body.", null },
        {
            nameof(ReservationsApi.Refusals.Recovering), 503, ProblemTypes.Recovering, "Recovering",
            "This SKU's stock is being rebuilt after its Redis lost recent decisions; nothing was decided. Retry with the same Idempotency-Key.", "2"
        },
        {
            nameof(ReservationsApi.Refusals.NotYetDurable), 503, ProblemTypes.Unavailable, "Temporarily unavailable",
            "The reservation was decided but could not be made durable in time. Retry with the same Idempotency-Key: it is returned once durable, never made twice.", "1"
        },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task APreparedRefusalIsTheAnswerProblemDetailsGives(string name, int status, string slug, string title, string detail, string? retryAfter)
    {
        foreach (var traceId in new[] { "0HNHJ2B0M9K7Q:00000001", "needs \"escaping\" \\ é" })
        {
            var expected = await ExecuteAsync(traceId, retryAfter, Problems.Create(status, slug, title, detail));
            var prepared = await ExecuteAsync(traceId, null, Prepared(name));

            Assert.Equal(expected.Status, prepared.Status);
            Assert.Equal(expected.ContentType, prepared.ContentType);
            Assert.Equal(expected.RetryAfter, prepared.RetryAfter);
            Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected.Body), JsonNode.Parse(prepared.Body)),
                $"{name}: expected {expected.Body}, prepared {prepared.Body}");
            Assert.Equal(expected.Body, prepared.Body);
        }
    }

    [Fact]
    public async Task ASoldOutAnswerFromTheEndpointCarriesItsRequestsTraceId()
    {
        var sale = await TestSale.StartAsync(factory, stock: 1);
        using var first = factory.Buyer(Random.Shared.NextInt64(1, 1_000_000));
        Assert.Equal(HttpStatusCode.Created, (await sale.ReserveAsync(first, "k")).StatusCode);
        using var late = factory.Buyer(Random.Shared.NextInt64(1_000_000, 2_000_000));

        using var response = await sale.ReserveAsync(late, "k");

        var problem = await response.AssertProblemAsync(HttpStatusCode.Conflict, ProblemTypes.SoldOut);
        Assert.Equal(["type", "title", "status", "detail", "traceId"], problem.EnumerateObject().Select(p => p.Name));
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("traceId").GetString()));
        Assert.Equal(response.Content.Headers.ContentLength, (await response.Content.ReadAsByteArrayAsync()).Length);
    }

    private static PreparedProblem Prepared(string name) => name switch
    {
        nameof(ReservationsApi.Refusals.SoldOut) => ReservationsApi.Refusals.SoldOut,
        nameof(ReservationsApi.Refusals.PurchaseLimit) => ReservationsApi.Refusals.PurchaseLimit,
        nameof(ReservationsApi.Refusals.NotStarted) => ReservationsApi.Refusals.NotStarted,
        nameof(ReservationsApi.Refusals.Ended) => ReservationsApi.Refusals.Ended,
        nameof(ReservationsApi.Refusals.IdempotencyKeyReused) => ReservationsApi.Refusals.IdempotencyKeyReused,
        nameof(ReservationsApi.Refusals.Recovering) => ReservationsApi.Refusals.Recovering,
        nameof(ReservationsApi.Refusals.NotYetDurable) => ReservationsApi.Refusals.NotYetDurable,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, null),
    };

    /// <summary>Runs a result the way the endpoint does, with the Ingress's services, and captures what it wrote.</summary>
    private async Task<(int Status, string? ContentType, string? RetryAfter, string Body)> ExecuteAsync(string traceId, string? retryAfter, IResult result)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        using var body = new MemoryStream();
        var context = new DefaultHttpContext { RequestServices = scope.ServiceProvider, TraceIdentifier = traceId };
        context.Response.Body = body;
        if (retryAfter is not null)
        {
            context.Response.Headers.RetryAfter = retryAfter;
        }
        await result.ExecuteAsync(context);
        await context.Response.BodyWriter.FlushAsync();
        return (context.Response.StatusCode, context.Response.ContentType, context.Response.Headers.RetryAfter, System.Text.Encoding.UTF8.GetString(body.ToArray()));
    }
}
