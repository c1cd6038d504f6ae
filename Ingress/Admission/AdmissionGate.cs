using System.Globalization;
using FlashSale.Contracts;
using FlashSale.Engine.Admission;
using FlashSale.Engine.Campaigns;
using FlashSale.Engine.Redis;
using FlashSale.Engine.Reservations;
using FlashSale.Ingress.Infrastructure;
using StackExchange.Redis;

namespace FlashSale.Ingress.Admission;

/// <summary>Marks an endpoint whose requests need an admission token in a waiting-room SKU (the reservation).</summary>
public sealed class AdmissionRequiredMetadata
{
    public static AdmissionRequiredMetadata Instance { get; } = new();
}

/// <summary>
/// The waiting room's door on the reservation endpoint, as middleware so that it runs in the order of answers:
/// after authentication and authorization (401/403 of the bearer token), before any rate limiter (429) or backpressure
/// (503 busy) and the decision. In a queue-mode SKU a reservation needs the buyer's valid <c>Admission-Token</c>; without
/// one it is 403 <c>admission-required</c> and nothing is decided — unless its Idempotency-Key already owns an order
/// (one HEXISTS, on the refusal path only): a replay needs no token. A reservation created on a token counts the token
/// as used, so its slot goes to the next ticket in line.
/// </summary>
public static class AdmissionGate
{
    public static TBuilder RequireAdmission<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder
        => builder.WithMetadata(AdmissionRequiredMetadata.Instance);

    /// <summary>Call after <c>UseAuthorization</c> and before <c>UseRateLimiter</c>.</summary>
    public static IApplicationBuilder UseAdmission(this IApplicationBuilder app) => app.Use(static (context, next) =>
        context.GetEndpoint()?.Metadata.GetMetadata<AdmissionRequiredMetadata>() is null ? next(context) : AdmitAsync(context, next));

    private static readonly PreparedProblem Refused = Problems.Prepare(StatusCodes.Status403Forbidden, ProblemTypes.AdmissionRequired, "Admission required",
        $"This SKU sells through a waiting room: join its queue, and reserve with the {ApiHeaders.AdmissionToken} header once your ticket is Admitted. "
        + "A missing, malformed, expired or withdrawn token, or another buyer's, decides nothing.");

    private static async Task AdmitAsync(HttpContext context, RequestDelegate next)
    {
        var route = context.Request.RouteValues;
        // A request the endpoint will refuse anyway (bad ids, no buyer) goes on to that answer.
        if (route["campaignId"] is not string campaignId || !CampaignValidator.IsValidCampaignId(campaignId)
            || !long.TryParse(route["skuId"] as string, NumberStyles.None, CultureInfo.InvariantCulture, out var skuId) || skuId <= 0
            || context.User.BuyerId() is not { } userId)
        {
            await next(context);
            return;
        }
        var room = context.RequestServices.GetRequiredService<WaitingRoom>();
        var token = context.Request.Headers[ApiHeaders.AdmissionToken].ToString();
        var decision = await room.CheckAsync(campaignId, skuId, userId, token);
        if (decision.Allowed)
        {
            await next(context);
            if (decision.Sequence > 0 && context.Response.StatusCode == StatusCodes.Status201Created)
            {
                room.Used(campaignId, skuId, decision.Sequence);
            }
            return;
        }
        if (await OwnsAnOrderAsync(context, campaignId, skuId, userId))
        {
            await next(context);
            return;
        }
        await Refused.ExecuteAsync(context);
    }

    /// <summary>The request's Idempotency-Key already made an order of this buyer on this SKU: its replay needs no admission.</summary>
    private static async Task<bool> OwnsAnOrderAsync(HttpContext context, string campaignId, long skuId, long userId)
    {
        var key = context.Request.Headers[ApiHeaders.IdempotencyKey].ToString();
        if (!VisibleAscii.IsValid(key, Reservations.ReservationsApi.MaxIdempotencyKeyLength))
        {
            return false;
        }
        return await context.RequestServices.GetRequiredService<ReservationService>().OwnsOrderAsync(campaignId, skuId, userId, key);
    }
}
