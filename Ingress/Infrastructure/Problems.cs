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
