using System.Globalization;
using FlashSale.Contracts;
using FlashSale.Engine.Campaigns;
using FlashSale.Engine.Orders;
using FlashSale.Ingress.Infrastructure;
using Microsoft.AspNetCore.Http.HttpResults;

namespace FlashSale.Ingress.Payments;

internal static class PaymentsAdminApi
{
    private static readonly string[] Outcomes = [PaymentOutcomes.RefundRequired, PaymentOutcomes.AmountMismatch, PaymentOutcomes.Failed, PaymentOutcomes.Applied];

    public static RouteGroupBuilder MapPaymentsAdminApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup(ApiRoutes.AdminPayments).WithTags("Payments").RequireAuthorization(AuthSetup.AdminPolicy);
        group.MapGet("/", List);
        return group;
    }

    /// <summary>Payments by outcome, newest first; <c>refund-required</c> (the default) is the shop's to-do list.</summary>
    public static async Task<Results<Ok<IReadOnlyList<PaymentAdminView>>, ProblemHttpResult>> List(
        string? outcome, int? limit, OrderQueries orders, CancellationToken cancellationToken)
    {
        outcome ??= PaymentOutcomes.RefundRequired;
        if (!Outcomes.Contains(outcome))
        {
            return Problems.BadRequest(ProblemTypes.InvalidOutcome, $"outcome must be one of {string.Join(", ", Outcomes)}.");
        }
        if (limit is < 1 or > 500)
        {
            return Problems.BadRequest(ProblemTypes.InvalidLimit, "limit must be between 1 and 500.");
        }
        var payments = await orders.ListPaymentsAsync(outcome, limit ?? 100, cancellationToken);
        return TypedResults.Ok<IReadOnlyList<PaymentAdminView>>([.. payments.Select(p => new PaymentAdminView(
            p.ProviderTxnId, p.OrderNo.ToString(CultureInfo.InvariantCulture), Money.Format(p.Amount), p.ProviderStatus, p.Outcome, p.ReceivedAt.UtcDateTime))]);
    }
}
