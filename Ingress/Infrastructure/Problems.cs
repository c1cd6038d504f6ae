using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using FlashSale.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;

namespace FlashSale.Ingress.Infrastructure;

/// <summary>
/// RFC 7807 problem details with a stable <c>type</c> per error: a slug of <see cref="ProblemTypes"/>.
/// Clients branch on the slug (<c>sold-out</c>, <c>purchase-limit</c>, ...), never on the human text.
/// </summary>
public static class Problems
{
    public const string TypeBase = ProblemTypes.Base;

    public static string Type(string slug) => ProblemTypes.Uri(slug);

    public static ProblemHttpResult Create(int status, string slug, string title, string detail)
        => TypedResults.Problem(detail: detail, statusCode: status, title: title, type: Type(slug));

    public static ProblemHttpResult BadRequest(string slug, string detail) => Create(StatusCodes.Status400BadRequest, slug, "Bad request", detail);

    /// <summary>A 400 whose <c>field</c> extension names the body member at fault (a JSON path without <c>$.</c>), when one is.</summary>
    public static ProblemHttpResult BadRequest(string slug, string? field, string detail) => TypedResults.Problem(
        detail: detail, statusCode: StatusCodes.Status400BadRequest, title: "Bad request", type: Type(slug),
        extensions: field is null ? null : new Dictionary<string, object?> { ["field"] = field });

    public static ProblemHttpResult NotFound(string detail) => Create(StatusCodes.Status404NotFound, ProblemTypes.NotFound, "Not found", detail);

    public static ProblemHttpResult Conflict(string slug, string title, string detail) => Create(StatusCodes.Status409Conflict, slug, title, detail);

    /// <summary>
    /// A problem whose every member but the request's <c>traceId</c> is fixed, written from bytes encoded once;
    /// see <see cref="PreparedProblem"/>. <paramref name="retryAfterSeconds"/> becomes the Retry-After header.
    /// </summary>
    public static PreparedProblem Prepare(int status, string slug, string title, string detail, int? retryAfterSeconds = null)
        => new(status, Type(slug), title, detail, retryAfterSeconds);

    /// <summary>Statuses that reach the client without a body of their own (authentication, unmatched routes).</summary>
    public static (string Slug, string Title)? ForBareStatus(int status) => status switch
    {
        StatusCodes.Status401Unauthorized => (ProblemTypes.Unauthorized, "A valid bearer token is required"),
        StatusCodes.Status403Forbidden => (ProblemTypes.Forbidden, "This token may not do that"),
        StatusCodes.Status404NotFound => (ProblemTypes.NotFound, "Not found"),
        StatusCodes.Status405MethodNotAllowed => (ProblemTypes.MethodNotAllowed, "Method not allowed"),
        StatusCodes.Status415UnsupportedMediaType => (ProblemTypes.UnsupportedMediaType, "Unsupported media type"),
        _ => null,
    };
}

/// <summary>
/// The answer to a refusal that a sale repeats thousands of times a second (sold out, over the limit, not
/// started, fenced): the same RFC 7807 JSON as <see cref="Problems.Create"/> written through the problem
/// details service — <c>type</c>, <c>title</c>, <c>status</c>, <c>detail</c>, then the <c>traceId</c>
/// extension <see cref="HttpSetup"/> adds — but from UTF-8 bytes encoded once, with only the trace id
/// spliced in per request, instead of building a <c>ProblemDetails</c> and serializing it every time.
/// </summary>
public sealed class PreparedProblem : IResult, IStatusCodeHttpResult, IContentTypeHttpResult
{
    public const string ProblemContentType = "application/problem+json";

    /// <summary>The escaping ASP.NET Core's JSON options write with, so the bytes are the ones the framework writes.</summary>
    private static readonly JavaScriptEncoder Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping;

    private readonly byte[] _head;
    private static readonly byte[] Tail = "\"}"u8.ToArray();

    internal PreparedProblem(int status, string type, string title, string detail, int? retryAfterSeconds)
    {
        StatusCode = status;
        ProblemType = type;
        Title = title;
        Detail = detail;
        RetryAfter = retryAfterSeconds?.ToString(CultureInfo.InvariantCulture);

        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = Encoder }))
        {
            json.WriteStartObject();
            json.WriteString("type", type);
            json.WriteString("title", title);
            json.WriteNumber("status", status);
            json.WriteString("detail", detail);
            json.WriteString("traceId", "");
            json.WriteEndObject();
        }
        // Everything up to the trace id's opening quote; Tail closes the string and the object.
        _head = buffer.WrittenSpan[..^Tail.Length].ToArray();
    }

    public int StatusCode { get; }

    int? IStatusCodeHttpResult.StatusCode => StatusCode;

    public string ContentType => ProblemContentType;

    public string ProblemType { get; }

    public string Title { get; }

    public string Detail { get; }

    /// <summary>The Retry-After header's value in seconds, or null for none.</summary>
    public string? RetryAfter { get; }

    public Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = StatusCode;
        response.ContentType = ProblemContentType;
        if (RetryAfter is not null)
        {
            response.Headers.RetryAfter = RetryAfter;
        }

        var traceId = httpContext.TraceIdentifier;
        // Kestrel's trace ids ("connection:request", hex) need no JSON escaping; anything else is escaped.
        var escaped = NeedsNoEscaping(traceId) ? null : JsonEncodedText.Encode(traceId, Encoder).EncodedUtf8Bytes.ToArray();
        var idLength = escaped?.Length ?? traceId.Length;
        var length = _head.Length + idLength + Tail.Length;
        response.ContentLength = length;

        var writer = response.BodyWriter;
        var span = writer.GetSpan(length);
        _head.CopyTo(span);
        if (escaped is null)
        {
            Encoding.ASCII.GetBytes(traceId, span[_head.Length..]);
        }
        else
        {
            escaped.CopyTo(span[_head.Length..]);
        }
        Tail.CopyTo(span[(_head.Length + idLength)..]);
        writer.Advance(length);
        var flush = writer.FlushAsync(httpContext.RequestAborted);
        return flush.IsCompletedSuccessfully ? Task.CompletedTask : flush.AsTask();
    }

    private static bool NeedsNoEscaping(string value)
    {
        foreach (var c in value)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is ':' or '-' or '.' or '_'))
            {
                return false;
            }
        }
        return true;
    }
}
