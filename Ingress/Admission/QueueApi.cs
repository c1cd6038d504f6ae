using System.Globalization;
using System.Security.Claims;
using FlashSale.Contracts;
using FlashSale.Engine.Admission;
using FlashSale.Engine.Campaigns;
using FlashSale.Engine.Redis;
using FlashSale.Ingress.Infrastructure;
using Microsoft.AspNetCore.Http.HttpResults;

namespace FlashSale.Ingress.Admission;

/// <summary>The waiting room of a queue-mode SKU: join it, then poll the ticket until it is admitted (or sold out).</summary>
internal static class QueueApi
{
    public static RouteGroupBuilder MapQueueApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup(ApiRoutes.Queue)
            .WithTags("Waiting room")
            .RequireAuthorization(AuthSetup.BuyerPolicy);
        group.MapPost("/", Join)
            .WithName("JoinQueue")
            .Produces<QueueTicketResponse>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        group.MapGet("/{ticket}", Poll)
            .WithName("PollQueueTicket")
            .Produces<QueueStatusResponse>()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return group;
    }

    /// <summary>
    /// Joins the SKU's queue (also before the sale starts): 202 with the buyer's ticket. Asking again answers the same
    /// ticket; a ticket whose admission lapsed is replaced by a new one at the back.
    /// </summary>
    public static async Task<Results<Accepted<QueueTicketResponse>, ProblemHttpResult>> Join(
        string campaignId, long skuId, ClaimsPrincipal user, WaitingRoom room, HttpContext context)
    {
        if (!CampaignValidator.IsValidCampaignId(campaignId) || skuId <= 0)
        {
            return NoQueue(campaignId, skuId);
        }
        var userId = user.BuyerId()!.Value;
        var joined = await room.JoinAsync(campaignId, skuId, userId);
        switch (joined.Outcome)
        {
            case JoinOutcome.NotWarmed or JoinOutcome.NoQueue:
                return NoQueue(campaignId, skuId);
            case JoinOutcome.Ended:
                return Problems.Conflict(ProblemTypes.Ended, "Ended", "The campaign has ended: its queue takes nobody any more.");
        }
        if (joined.State == QueueStates.Waiting)
        {
            context.Response.Headers.RetryAfter = room.PollIntervalSeconds.ToString(CultureInfo.InvariantCulture);
        }
        return TypedResults.Accepted(ApiRoutes.QueueTicketPath(campaignId, skuId, joined.Ticket!),
            new QueueTicketResponse(joined.Ticket!, joined.Position, joined.State!));
    }

    /// <summary>
    /// The ticket's state, from memory: Waiting (with its position and <c>Retry-After</c>, the polling interval), Admitted
    /// (the admission token and its expiry), SoldOut (also with <c>Retry-After</c>: cancellations may bring units back),
    /// Expired or Ended. Another buyer's ticket is 404, as if it did not exist.
    /// </summary>
    public static async Task<Results<Ok<QueueStatusResponse>, ProblemHttpResult>> Poll(
        string campaignId, long skuId, string ticket, ClaimsPrincipal user, WaitingRoom room, HttpContext context)
    {
        var status = CampaignValidator.IsValidCampaignId(campaignId) && skuId > 0
            ? await room.StatusAsync(campaignId, skuId, user.BuyerId()!.Value, ticket)
            : null;
        if (status is null)
        {
            return Problems.NotFound($"You hold no ticket '{ticket}' in the queue of campaign '{campaignId}' SKU {skuId}.");
        }
        if (status.State is QueueStates.Waiting or QueueStates.SoldOut)
        {
            context.Response.Headers.RetryAfter = room.PollIntervalSeconds.ToString(CultureInfo.InvariantCulture);
        }
        return TypedResults.Ok(new QueueStatusResponse(status.State, status.Position, status.AdmissionToken, status.ExpiresAt?.UtcDateTime));
    }

    private static ProblemHttpResult NoQueue(string campaignId, long skuId)
        => Problems.NotFound($"Campaign '{campaignId}' has no waiting room for SKU {skuId}: unknown, not warmed up yet, or open (reserve directly).");
}
