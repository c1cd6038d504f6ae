using System.Security.Claims;
using System.Text.Json;
using FlashSale.Contracts;
using FlashSale.Engine.Campaigns;
using FlashSale.Engine.Reservations;
using FlashSale.Ingress.Admission;
using FlashSale.Ingress.Infrastructure;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace FlashSale.Ingress.Reservations;

internal static class ReservationsApi
{
    public const int MaxQuantity = 100;
    public const int MaxIdempotencyKeyLength = 64;
    public const string IdempotencyKeyHeader = ApiHeaders.IdempotencyKey;

    public static RouteGroupBuilder MapReservationsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup(ApiRoutes.Reservations)
            .WithTags("Reservations")
            .RequireAuthorization(AuthSetup.BuyerPolicy);
        group.MapPost("/", Reserve)
            .WithName("Reserve")
            .Accepts<ReservationBody>("application/json")
            .RequireAdmission()
            // The rate limits (429 rate-limited, before the handler; see Admission/ReservationLimiter).
            .WithMetadata(ReservationRateLimited.Instance)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            // busy (backpressure), recovering (a fenced SKU), unavailable (not yet durable, or a backend down).
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return group;
    }

    public static async Task<Results<Created<ReservationResponse>, Ok<ReservationResponse>, ProblemHttpResult, PreparedProblem>> Reserve(
        string campaignId,
        long skuId,
        [FromHeader(Name = IdempotencyKeyHeader)] string? idempotencyKey,
        HttpRequest request,
        ClaimsPrincipal user,
        ReservationService reservations,
        BusyAnswer busy)
    {
        if (!IsValidIdempotencyKey(idempotencyKey))
        {
            return Problems.BadRequest(ProblemTypes.InvalidIdempotencyKey,
                $"The {IdempotencyKeyHeader} header is required: 1-{MaxIdempotencyKeyLength} visible ASCII characters, unique per purchase attempt.");
        }

        ReservationBody? body;
        try
        {
            body = await JsonSerializer.DeserializeAsync(request.Body, IngressJson.Default.ReservationBody, request.HttpContext.RequestAborted);
        }
        catch (JsonException ex)
        {
            var (field, detail) = JsonBodies.Describe(ex);
            return Problems.BadRequest(ProblemTypes.InvalidBody, field, detail + " The body must be JSON like {\"quantity\":1} or {\"quantity\":1,\"couponId\":\"c20\"}.");
        }
        if (body is null || body.Quantity is < 1 or > MaxQuantity)
        {
            return Problems.BadRequest(ProblemTypes.InvalidQuantity, $"quantity must be a whole number from 1 to {MaxQuantity}.");
        }
        if (!CampaignValidator.IsValidCampaignId(campaignId) || skuId <= 0)
        {
            return NotOnSale(campaignId, skuId);
        }
        if (body.CouponId is not null && !CampaignValidator.IsValidCouponId(body.CouponId))
        {
            // No pool can have that id: the coupon is unknown, and nothing is held.
            return Refusals.CouponUnavailable;
        }

        // No cancellation past this point: a buyer who hangs up must not leave a decision half-observed;
        // the script runs to completion either way and a replay returns its result.
        var result = await reservations.ReserveAsync(
            new ReservationRequest(campaignId, skuId, user.BuyerId()!.Value, idempotencyKey!, body.Quantity, body.CouponId));

        return result.Status switch
        {
            ReservationStatus.Created => TypedResults.Created(
                ApiRoutes.OrderPath(result.Reservation!.OrderNo), ToResponse(result.Reservation)),
            ReservationStatus.Replayed => Replayed(request.HttpContext, result.Reservation!),
            ReservationStatus.IdempotencyKeyReused => Refusals.IdempotencyKeyReused,
            ReservationStatus.NotOnSale => NotOnSale(campaignId, skuId),
            ReservationStatus.NotStarted => Refusals.NotStarted,
            ReservationStatus.Ended => Refusals.Ended,
            ReservationStatus.PurchaseLimit => Refusals.PurchaseLimit,
            ReservationStatus.SoldOut => Refusals.SoldOut,
            ReservationStatus.Recovering => Refusals.Recovering,
            ReservationStatus.NotYetDurable => Refusals.NotYetDurable,
            ReservationStatus.Busy => busy.Problem,
            ReservationStatus.CouponUnavailable => Refusals.CouponUnavailable,
            _ => throw new InvalidOperationException($"Unhandled reservation status {result.Status}."),
        };
    }

    private static Ok<ReservationResponse> Replayed(HttpContext context, Reservation reservation)
    {
        context.Response.Headers.Location = ApiRoutes.OrderPath(reservation.OrderNo);
        context.Response.Headers[ApiHeaders.IdempotentReplayed] = "true";
        return TypedResults.Ok(ToResponse(reservation));
    }

    private static ReservationResponse ToResponse(Reservation reservation) => new(
        reservation.OrderNo.ToString(System.Globalization.CultureInfo.InvariantCulture),
        reservation.CampaignId,
        reservation.SkuId,
        reservation.Quantity,
        Money.Format(reservation.Amount),
        OrderStatus.PendingPayment,
        reservation.PaymentDeadline.UtcDateTime,
        reservation.Coupon?.CouponId,
        reservation.Coupon is { } coupon ? Money.Format(Money.FromMinor(coupon.DiscountMinor)) : null);

    /// <summary>
    /// The refusals a sale answers thousands of times a second, prepared once (<see cref="PreparedProblem"/>):
    /// the same bodies and headers as the problem details service writes, without building them per request.
    /// </summary>
    internal static class Refusals
    {
        /// <summary>Seconds a buyer should wait before asking a fenced SKU again: recovery drains Kafka first.</summary>
        public const int RecoveringRetryAfterSeconds = 2;

        /// <summary>Seconds a buyer should wait before retrying a reservation Kafka has not confirmed yet.</summary>
        public const int NotYetDurableRetryAfterSeconds = 1;

        public static readonly PreparedProblem IdempotencyKeyReused = Problems.Prepare(StatusCodes.Status422UnprocessableEntity, ProblemTypes.IdempotencyKeyReused,
            "Idempotency-Key reused", "This Idempotency-Key already made an order with a different request body.");

        public static readonly PreparedProblem NotStarted = Problems.Prepare(StatusCodes.Status409Conflict, ProblemTypes.NotStarted, "Not started", "The campaign has not started yet.");

        public static readonly PreparedProblem Ended = Problems.Prepare(StatusCodes.Status409Conflict, ProblemTypes.Ended, "Ended", "The campaign has ended.");

        public static readonly PreparedProblem PurchaseLimit = Problems.Prepare(StatusCodes.Status409Conflict, ProblemTypes.PurchaseLimit, "Purchase limit reached",
            "This would take you over the campaign's per-buyer limit for this SKU.");

        public static readonly PreparedProblem SoldOut = Problems.Prepare(StatusCodes.Status409Conflict, ProblemTypes.SoldOut, "Sold out", "This SKU is sold out.");

        public static readonly PreparedProblem CouponUnavailable = Problems.Prepare(StatusCodes.Status409Conflict, ProblemTypes.CouponUnavailable,
            "Coupon unavailable",
            "This coupon cannot be used for this order: it is unknown, none is left, you hold as many as you may, or the order is below its minimum spend. Nothing was reserved.");

        public static readonly PreparedProblem Recovering = Problems.Prepare(StatusCodes.Status503ServiceUnavailable, ProblemTypes.Recovering, "Recovering",
            "This SKU's stock is being rebuilt after its Redis lost recent decisions; nothing was decided. Retry with the same Idempotency-Key.",
            RecoveringRetryAfterSeconds);

        public static readonly PreparedProblem NotYetDurable = Problems.Prepare(StatusCodes.Status503ServiceUnavailable, ProblemTypes.Unavailable, "Temporarily unavailable",
            "The reservation was decided but could not be made durable in time. Retry with the same Idempotency-Key: it is returned once durable, never made twice.",
            NotYetDurableRetryAfterSeconds);
    }

    private static ProblemHttpResult NotOnSale(string campaignId, long skuId)
        => Problems.NotFound($"Campaign '{campaignId}' has no SKU {skuId} on sale: unknown, or not warmed up yet.");

    /// <summary>Visible ASCII only: keys end up in Redis field names and logs.</summary>
    public static bool IsValidIdempotencyKey(string? key) => VisibleAscii.IsValid(key, MaxIdempotencyKeyLength);
}
