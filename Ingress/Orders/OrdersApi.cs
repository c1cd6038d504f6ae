using System.Globalization;
using System.Security.Claims;
using FlashSale.Contracts;
using FlashSale.Engine.Auth;
using FlashSale.Engine.Campaigns;
using FlashSale.Engine.Lifecycle;
using FlashSale.Engine.Orders;
using FlashSale.Ingress.Infrastructure;
using Microsoft.AspNetCore.Http.HttpResults;

namespace FlashSale.Ingress.Orders;

internal static class OrdersApi
{
    public const int DefaultPageSize = 20;
    public const int MaxPageSize = 100;

    public static RouteGroupBuilder MapOrdersApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup(ApiRoutes.Orders).WithTags("Orders").RequireAuthorization(AuthSetup.BuyerPolicy);
        group.MapGet("/{orderNo}", Get);
        group.MapGet("/", List);
        group.MapPost("/{orderNo}/cancel", Cancel);
        return group;
    }

    /// <summary>The owner gives a pending order up; its units go back on sale. A paid order is not cancelled this way.</summary>
    public static async Task<Results<Ok<OrderResponse>, ProblemHttpResult>> Cancel(
        string orderNo, ClaimsPrincipal user, OrderQueries orders, OrderLifecycle lifecycle, HttpContext context, CancellationToken cancellationToken)
    {
        var buyer = user.BuyerId()!.Value;
        if (!long.TryParse(orderNo, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number <= 0)
        {
            return UnknownOrder(orderNo);
        }
        var order = await orders.GetAsync(number, buyer, cancellationToken);
        if (order is null || order.UserId != buyer)
        {
            return UnknownOrder(orderNo);
        }
        if (!order.Persisted)
        {
            context.Response.Headers.RetryAfter = "1";
            return Problems.Create(StatusCodes.Status503ServiceUnavailable, ProblemTypes.OrderNotYetPersisted, "Order not yet recorded",
                "The order was placed moments ago and is still on its way to the order database; try again in a second.");
        }

        var (outcome, _) = await lifecycle.CancelAsync(number, "buyer-cancelled", cancellationToken);
        if (outcome == CancelOutcome.Paid)
        {
            return Problems.Conflict(ProblemTypes.OrderPaid, "Order paid", "A paid order cannot be cancelled here; ask for a refund instead.");
        }
        return TypedResults.Ok(ToResponse((await orders.GetAsync(number, buyer, cancellationToken))!));
    }

    /// <summary>The buyer's own order (another buyer's is 404, as if it did not exist); an admin may read any persisted order.</summary>
    public static async Task<Results<Ok<OrderResponse>, ProblemHttpResult>> Get(
        string orderNo, ClaimsPrincipal user, OrderQueries orders, CancellationToken cancellationToken)
    {
        var buyer = user.BuyerId()!.Value;
        if (!long.TryParse(orderNo, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number <= 0)
        {
            return UnknownOrder(orderNo);
        }
        var order = await orders.GetAsync(number, buyer, cancellationToken);
        return order is not null && (order.UserId == buyer || user.IsInRole(AuthOptions.AdminRole))
            ? TypedResults.Ok(ToResponse(order))
            : UnknownOrder(orderNo);
    }

    public static async Task<Results<Ok<OrderListResponse>, ProblemHttpResult>> List(
        string? cursor, int? limit, ClaimsPrincipal user, OrderQueries orders, CancellationToken cancellationToken)
    {
        long? before = null;
        if (cursor is not null)
        {
            if (!long.TryParse(cursor, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) || parsed <= 0)
            {
                return Problems.BadRequest(ProblemTypes.InvalidCursor, "cursor must be the nextCursor of a previous page.");
            }
            before = parsed;
        }
        if (limit is < 1 or > MaxPageSize)
        {
            return Problems.BadRequest(ProblemTypes.InvalidLimit, $"limit must be between 1 and {MaxPageSize}.");
        }

        var page = await orders.ListAsync(user.BuyerId()!.Value, before, limit ?? DefaultPageSize, cancellationToken);
        return TypedResults.Ok(new OrderListResponse(
            [.. page.Items.Select(ToResponse)],
            page.NextCursor?.ToString(CultureInfo.InvariantCulture)));
    }

    private static ProblemHttpResult UnknownOrder(string orderNo) => Problems.NotFound($"You have no order {orderNo}.");

    private static OrderResponse ToResponse(OrderView order) => new(
        order.OrderNo.ToString(CultureInfo.InvariantCulture),
        order.CampaignId,
        order.SkuId,
        order.Quantity,
        Money.Format(order.Amount),
        order.Status,
        order.PaymentDeadline.UtcDateTime,
        order.CreatedAt.UtcDateTime,
        order.Persisted,
        order.CouponId,
        order.CouponId is null ? null : Money.Format(order.Discount));
}
