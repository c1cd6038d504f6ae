using System.Text.Json;
using System.Text.Json.Serialization;
using FlashSale.Contracts;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Json;
using StackExchange.Redis;

namespace FlashSale.Ingress.Infrastructure;

// Request bodies are read strictly, as payment APIs do: an unknown or repeated member, or a number sent
// as a string, is a 400 naming the field rather than a guess. Amounts read strings through MoneyJsonConverter.
[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    UseStringEnumConverter = true,
    NumberHandling = JsonNumberHandling.Strict,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    AllowDuplicateProperties = false)]
[JsonSerializable(typeof(ReservationBody))]
[JsonSerializable(typeof(ReservationResponse))]
[JsonSerializable(typeof(QueueTicketResponse))]
[JsonSerializable(typeof(QueueStatusResponse))]
[JsonSerializable(typeof(CampaignBody))]
[JsonSerializable(typeof(CampaignView))]
[JsonSerializable(typeof(WarmupResponse))]
[JsonSerializable(typeof(SkuStockView))]
[JsonSerializable(typeof(SkuLedgerView))]
[JsonSerializable(typeof(CouponStockView))]
[JsonSerializable(typeof(CouponLedgerView))]
[JsonSerializable(typeof(IReadOnlyList<CampaignSummaryView>))]
[JsonSerializable(typeof(ReconcileResponse))]
[JsonSerializable(typeof(LiveUpdate))]
[JsonSerializable(typeof(OrderResponse))]
[JsonSerializable(typeof(OrderListResponse))]
[JsonSerializable(typeof(PaymentCallbackBody))]
[JsonSerializable(typeof(PaymentCallbackResponse))]
[JsonSerializable(typeof(IReadOnlyList<PaymentAdminView>))]
internal sealed partial class IngressJson : JsonSerializerContext;

public static class HttpSetup
{
    public static IHostApplicationBuilder AddIngressHttp(this IHostApplicationBuilder builder)
    {
        builder.Services.Configure<JsonOptions>(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, IngressJson.Default));
        builder.Services.AddProblemDetails(o => o.CustomizeProblemDetails = context =>
        {
            var problem = context.ProblemDetails;
            // Bodies written by the framework itself (401 from the bearer handler, unmatched routes)
            // get the same stable types as the ones the endpoints write.
            if (problem.Type is null || !problem.Type.StartsWith(Problems.TypeBase, StringComparison.Ordinal))
            {
                if (Problems.ForBareStatus(problem.Status ?? 0) is { } known)
                {
                    problem.Type = Problems.Type(known.Slug);
                    problem.Title = known.Title;
                }
            }
            problem.Extensions["traceId"] = context.HttpContext.TraceIdentifier;
        });
        builder.Services.AddExceptionHandler<BackendUnavailableHandler>();
        builder.Services.AddExceptionHandler<BadRequestHandler>();
        // Development throws on a parameter that does not bind, other environments answer a bare 400:
        // always throwing lets BadRequestHandler answer one problem naming the parameter everywhere.
        builder.Services.PostConfigure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        return builder;
    }
}

/// <summary>
/// Redis or the database failing mid-request: 503 with Retry-After. For a reservation the outcome
/// is unknown to us too, so the answer tells the buyer to retry with the same Idempotency-Key,
/// which replays the decision instead of making a second one.
/// </summary>
internal sealed class BackendUnavailableHandler(IProblemDetailsService problems, ILogger<BackendUnavailableHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not (RedisException or TimeoutException or MySqlConnector.MySqlException))
        {
            return false;
        }
        logger.LogWarning(exception, "Backend unavailable for {Path}", httpContext.Request.Path);
        httpContext.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        httpContext.Response.Headers.RetryAfter = "1";
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails =
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Type = Problems.Type(ProblemTypes.Unavailable),
                Title = "Temporarily unavailable",
                Detail = "A backing service did not answer. Retry with the same Idempotency-Key: a reservation that did go through is returned, never made twice.",
            },
        });
    }
}
