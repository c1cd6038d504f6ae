using System.Globalization;
using System.Threading.RateLimiting;
using FlashSale.Contracts;
using FlashSale.Engine.Backpressure;
using FlashSale.Engine.Campaigns;
using FlashSale.Engine.Reservations;
using FlashSale.Ingress.Infrastructure;
using FlashSale.Ingress.Reservations;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace FlashSale.Ingress.Admission;

/// <summary>
/// What a request over a limit is answered. A replay — its Idempotency-Key already owns an order of this buyer — is never
/// rate-limited: it goes on to the endpoint and is answered exactly as without the limit (200 with the order). Only a
/// refused request pays for finding that out (one Redis read of the SKU's idempotency hash); every other refused request
/// is 429 <c>rate-limited</c> with Retry-After, and nothing is decided (nothing is written).
/// </summary>
internal static class RateLimitRejection
{
    private static readonly PreparedProblem ByBuyer = Problems.Prepare(StatusCodes.Status429TooManyRequests, ProblemTypes.RateLimited, "Rate limited",
        "Too many reservation requests from this buyer; nothing was decided. Retry after Retry-After seconds with the same Idempotency-Key.");

    private static readonly PreparedProblem ByAddress = Problems.Prepare(StatusCodes.Status429TooManyRequests, ProblemTypes.RateLimited, "Rate limited",
        "Too many reservation requests from this address; nothing was decided. Retry after Retry-After seconds with the same Idempotency-Key.");

    private static readonly PreparedProblem ByConcurrency = Problems.Prepare(StatusCodes.Status429TooManyRequests, ProblemTypes.RateLimited, "Rate limited",
        "Too many reservation requests in flight at once; nothing was decided. Retry after Retry-After seconds with the same Idempotency-Key.");

    public static async ValueTask OnRejectedAsync(OnRejectedContext context, CancellationToken cancellationToken)
    {
        var http = context.HttpContext;
        var metrics = http.RequestServices.GetRequiredService<AdmissionMetrics>();
        if (http.GetEndpoint() is { RequestDelegate: { } endpoint } && await IsReplayAsync(http))
        {
            metrics.ReplayAdmitted();
            http.Response.StatusCode = StatusCodes.Status200OK;
            await endpoint(http);
            return;
        }
        var limit = context.Lease.TryGetMetadata(ReservationLimiter.LimitName, out var name) && name is not null ? name : ReservationLimiter.Concurrency;
        // A token bucket says when its next token comes; a concurrency limit does not: a second is a request's time many times over.
        var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? Math.Max(1, (int)Math.Ceiling(after.TotalSeconds)) : 1;
        metrics.Refused(limit);
        http.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
        await (limit switch
        {
            ReservationLimiter.Buyer => ByBuyer,
            ReservationLimiter.Address => ByAddress,
            _ => ByConcurrency,
        }).ExecuteAsync(http);
    }

    private static async Task<bool> IsReplayAsync(HttpContext http)
    {
        var key = http.Request.Headers[ApiHeaders.IdempotencyKey].ToString();
        if (!ReservationsApi.IsValidIdempotencyKey(key)
            || http.User.BuyerId() is not { } buyer
            || http.Request.RouteValues["campaignId"] is not string campaignId || !CampaignValidator.IsValidCampaignId(campaignId)
            || !long.TryParse(http.Request.RouteValues["skuId"] as string, NumberStyles.None, CultureInfo.InvariantCulture, out var skuId) || skuId <= 0)
        {
            return false;
        }
        try
        {
            return await http.RequestServices.GetRequiredService<ReservationService>().OwnsOrderAsync(campaignId, skuId, buyer, key);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // Not known to be a replay: refused like the rest; the buyer retries after Retry-After.
            return false;
        }
    }
}

/// <summary>The 503 <c>busy</c> of backpressure, prepared once with the configured Retry-After.</summary>
public sealed class BusyAnswer(IOptions<BackpressureOptions> options)
{
    public PreparedProblem Problem { get; } = Problems.Prepare(StatusCodes.Status503ServiceUnavailable, ProblemTypes.Busy, "Busy",
        "The order pipeline behind the sale is behind; nothing was decided. Retry after Retry-After seconds with the same Idempotency-Key.",
        options.Value.RetryAfterSeconds);
}
