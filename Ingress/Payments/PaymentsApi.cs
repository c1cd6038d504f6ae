using System.ComponentModel.DataAnnotations;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using FlashSale.Contracts;
using FlashSale.Engine.Campaigns;
using FlashSale.Engine.Lifecycle;
using FlashSale.Engine.Orders;
using FlashSale.Ingress.Infrastructure;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace FlashSale.Ingress.Payments;

public sealed class PaymentsOptions
{
    public const string Section = "Payments";

    /// <summary>Shared with the payment provider; signs every callback. From configuration or a secret store only.</summary>
    [Required]
    [MinLength(16)]
    public string CallbackSecret { get; set; } = "";

    /// <summary>How far a callback's X-Timestamp may be from our clock: older ones may be replays.</summary>
    [Range(1, 3_600)]
    public int TimestampToleranceSeconds { get; set; } = 300;
}

internal static class PaymentsApi
{
    public const int MaxBodyBytes = 16 * 1024;
    public const int MaxProviderTxnIdLength = 128;

    public static RouteGroupBuilder MapPaymentsApi(this IEndpointRouteBuilder app)
    {
        // The provider authenticates with the signature, not a bearer token.
        var group = app.MapGroup(ApiRoutes.Payments).WithTags("Payments").AllowAnonymous();
        group.MapPost("/callbacks", Callback)
            .Accepts<PaymentCallbackBody>("application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return group;
    }

    /// <summary>
    /// A payment provider's callback. Signed over <c>X-Timestamp + "." + raw body</c>; idempotent by
    /// providerTxnId, so the provider's retries get the first answer again and change nothing.
    /// </summary>
    public static async Task<Results<Ok<PaymentCallbackResponse>, ProblemHttpResult>> Callback(
        HttpRequest request, OrderLifecycle lifecycle, IOptions<PaymentsOptions> options, TimeProvider time, CancellationToken cancellationToken)
    {
        var body = await ReadBodyAsync(request, cancellationToken);
        if (body is null)
        {
            return Problems.Create(StatusCodes.Status413PayloadTooLarge, ProblemTypes.BodyTooLarge, "Body too large", $"A callback body is at most {MaxBodyBytes} bytes.");
        }
        if (!IsAuthentic(request.Headers, body, options.Value, time))
        {
            return Problems.Create(StatusCodes.Status401Unauthorized, ProblemTypes.InvalidSignature, "Invalid signature",
                "X-Signature must be the lowercase hex HMAC-SHA256 of \"<X-Timestamp>.<body>\" with the shared secret, and X-Timestamp within "
                + $"{options.Value.TimestampToleranceSeconds} s of now.");
        }

        PaymentCallbackBody? callback;
        try
        {
            callback = JsonSerializer.Deserialize(body, IngressJson.Default.PaymentCallbackBody);
        }
        catch (JsonException ex)
        {
            var (field, detail) = JsonBodies.Describe(ex);
            return InvalidCallback(field, detail);
        }
        if (callback is null
            || !long.TryParse(callback.OrderNo, NumberStyles.None, CultureInfo.InvariantCulture, out var orderNo) || orderNo <= 0
            || callback.Status is not ("succeeded" or "failed")
            || callback.Amount <= 0 || callback.Amount > Money.Max || !Money.HasAtMostTwoDecimals(callback.Amount))
        {
            return InvalidCallback(null, null);
        }
        if (!IsValidProviderTxnId(callback.ProviderTxnId))
        {
            return InvalidCallback("providerTxnId", $"providerTxnId must be 1-{MaxProviderTxnIdLength} visible ASCII characters (no spaces or control characters).");
        }

        var result = await lifecycle.ApplyPaymentAsync(
            new PaymentCallback(orderNo, callback.ProviderTxnId, callback.Amount, callback.Status == "succeeded"), cancellationToken);
        var response = result.Outcome is PaymentOutcome.OrderNotYetPersisted or PaymentOutcome.UnknownOrder
            ? null
            : new PaymentCallbackResponse(callback.OrderNo!, callback.ProviderTxnId, PaymentRules.Name(result.Outcome), result.OrderStatus);
        return result.Outcome switch
        {
            PaymentOutcome.AmountMismatch => Problems.Conflict(ProblemTypes.AmountMismatch, "Amount mismatch",
                $"The order's amount differs from {Money.Format(callback.Amount)}; the payment was recorded and the order left unchanged."),
            PaymentOutcome.OrderNotYetPersisted => NotYetPersisted(request.HttpContext, orderNo),
            PaymentOutcome.UnknownOrder => Problems.NotFound($"There is no order {orderNo}."),
            _ => TypedResults.Ok(response!),
        };
    }

    private static ProblemHttpResult NotYetPersisted(HttpContext context, long orderNo)
    {
        context.Response.Headers.RetryAfter = "2";
        return Problems.Create(StatusCodes.Status503ServiceUnavailable, ProblemTypes.OrderNotYetPersisted, "Order not yet recorded",
            $"Order {orderNo} was reserved moments ago and is still on its way to the order database; send this callback again.");
    }

    private static ProblemHttpResult InvalidCallback(string? field, string? detail) => Problems.BadRequest(ProblemTypes.InvalidCallback, field,
        (detail is null ? "" : detail + " ")
        + "The body must be JSON like {\"orderNo\":\"…\",\"providerTxnId\":\"…\",\"amount\":\"199.00\",\"status\":\"succeeded\"|\"failed\"}.");

    /// <summary>Visible ASCII like the Idempotency-Key (<see cref="VisibleAscii"/>); the length is the column's.</summary>
    public static bool IsValidProviderTxnId([NotNullWhen(true)] string? id) => VisibleAscii.IsValid(id, MaxProviderTxnIdLength);

    /// <summary>The raw bytes, which is what was signed; null when over the limit.</summary>
    private static async Task<byte[]?> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[4096];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes)
            {
                return null;
            }
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    public static bool IsAuthentic(IHeaderDictionary headers, byte[] body, PaymentsOptions options, TimeProvider time)
    {
        var timestamp = headers[ApiHeaders.Timestamp].ToString();
        var signature = headers[ApiHeaders.Signature].ToString();
        if (!long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            || Math.Abs(time.GetUtcNow().ToUnixTimeSeconds() - seconds) > options.TimestampToleranceSeconds
            || signature.Length != 64)
        {
            return false;
        }
        byte[] given;
        try
        {
            given = Convert.FromHexString(signature);
        }
        catch (FormatException)
        {
            return false;
        }
        var expected = Sign(options.CallbackSecret, timestamp, body);
        // Lowercase hex as specified, compared in constant time.
        return signature == Convert.ToHexStringLower(given) && CryptographicOperations.FixedTimeEquals(given, expected);
    }

    public static byte[] Sign(string secret, string timestamp, byte[] body) => PaymentSignature.Compute(secret, timestamp, body);
}
