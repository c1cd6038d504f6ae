using System.Globalization;
using FlashSale.Engine.Campaigns;
using FlashSale.Engine.Orders;
using FlashSale.Ingress.Infrastructure;
using Microsoft.AspNetCore.Http.HttpResults;

namespace FlashSale.Ingress.Payments;

public sealed record PaymentAdminView(string ProviderTxnId, string OrderNo, string Amount, string ProviderStatus, string Outcome, DateTime ReceivedAt);

internal static class PaymentsAdminApi
{
    private static readonly string[] Outcomes = ["refund-required", "amount-mismatch", "failed", "applied"];

    public static RouteGroupBuilder MapPaymentsAdminApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/admin/payments").WithTags("Payments").RequireAuthorization(AuthSetup.AdminPolicy);
        group.MapGet("/", List);
        return group;
    }

    /// <summary>Payments by outcome, newest first; <c>refund-required</c> (the default) is the shop's to-do list.</summary>
    public static async Task<Results<Ok<IReadOnlyList<PaymentAdminView>>, ProblemHttpResult>> List(
        string? outcome, int? limit, OrderQueries orders, CancellationToken cancellationToken)
    {
        outcome ??= "refund-required";
        if (!Outcomes.Contains(outcome))
        {
            return Problems.BadRequest("invalid-outcome", $"outcome must be one of {string.Join(", ", Outcomes)}.");
        }
        if (limit is < 1 or > 500)
        {
            return Problems.BadRequest("invalid-limit", "limit must be between 1 and 500.");
        }
        var payments = await orders.ListPaymentsAsync(outcome, limit ?? 100, cancellationToken);
        return TypedResults.Ok<IReadOnlyList<PaymentAdminView>>([.. payments.Select(p => new PaymentAdminView(
            p.ProviderTxnId, p.OrderNo.ToString(CultureInfo.InvariantCulture), Money.Format(p.Amount), p.ProviderStatus, p.Outcome, p.ReceivedAt.UtcDateTime))]);
    }
}
