using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Diagnostics;

namespace FlashSale.Ingress.Infrastructure;

/// <summary>
/// A query parameter, route value or header the framework could not bind (<c>?limit=abc</c>,
/// <c>?force=maybe</c>, a repeated parameter): 400 <c>invalid-&lt;parameter&gt;</c> naming it, never a 500.
/// Binding always throws (see <see cref="HttpSetup"/>) so that every environment answers alike.
/// </summary>
internal sealed partial class BadRequestHandler(IProblemDetailsService problems) : IExceptionHandler
{
    // The framework's wording (RequestDelegateFactory); when it changes, the answer is still a 400, only less specific.
    [GeneratedRegex(@"^(?:Failed to bind parameter|Required parameter) ""(?<type>[^""]*?) (?<name>[A-Za-z_][A-Za-z0-9_]*)""", RegexOptions.CultureInvariant)]
    private static partial Regex ParameterPattern();

    [GeneratedRegex(@"^Nullable<(.+)>$", RegexOptions.CultureInvariant)]
    private static partial Regex NullableOf();

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not BadHttpRequestException bad || httpContext.Response.HasStarted)
        {
            return false;
        }

        var status = bad.StatusCode;
        var match = ParameterPattern().Match(bad.Message);
        string slug, detail;
        string? parameter = null;
        if (status == StatusCodes.Status400BadRequest && match.Success)
        {
            parameter = match.Groups["name"].Value;
            slug = "invalid-" + Kebab(parameter);
            // The value itself is not echoed: it may hold control characters.
            detail = $"'{parameter}' must be {Expectation(match.Groups["type"].Value)}, given once.";
        }
        else
        {
            (slug, detail) = status switch
            {
                StatusCodes.Status413PayloadTooLarge => ("body-too-large", "The request body is too large."),
                StatusCodes.Status415UnsupportedMediaType => ("unsupported-media-type", "Send the body as application/json."),
                _ => ("bad-request", "The request could not be read."),
            };
        }

        httpContext.Response.StatusCode = status;
        var context = new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails =
            {
                Status = status,
                Type = Problems.Type(slug),
                Title = status == StatusCodes.Status400BadRequest ? "Bad request" : Problems.ForBareStatus(status)?.Title ?? "Bad request",
                Detail = detail,
            },
        };
        if (parameter is not null)
        {
            context.ProblemDetails.Extensions["parameter"] = parameter;
        }
        return await problems.TryWriteAsync(context);
    }

    private static string Expectation(string type) => NullableOf().Replace(type, "$1").TrimEnd('?') switch
    {
        "int" or "long" or "short" or "Int32" or "Int64" => "a whole number",
        "bool" or "Boolean" => "true or false",
        "decimal" or "double" => "a number",
        "Guid" => "a GUID",
        "DateTime" or "DateTimeOffset" => "an ISO 8601 instant",
        var other => $"a valid {other}",
    };

    private static string Kebab(string name)
    {
        var builder = new System.Text.StringBuilder(name.Length + 4);
        foreach (var c in name)
        {
            if (char.IsUpper(c) && builder.Length > 0)
            {
                builder.Append('-');
            }
            builder.Append(char.ToLowerInvariant(c));
        }
        return builder.ToString();
    }
}

/// <summary>What is wrong with a JSON body, naming the field, for the endpoints that read their body themselves.</summary>
internal static partial class JsonBodies
{
    // System.Text.Json's wording for a member the type does not have (UnmappedMemberHandling.Disallow).
    [GeneratedRegex("^The JSON property '(?<name>[^']*)' could not be mapped", RegexOptions.CultureInvariant)]
    private static partial Regex UnmappedPattern();

    /// <summary>The field (a JSON path without the leading <c>$.</c>, or null for the body as a whole) and a sentence about it.</summary>
    public static (string? Field, string Detail) Describe(JsonException exception)
    {
        var field = exception.Path is { Length: > 2 } path && path.StartsWith("$.", StringComparison.Ordinal) ? path[2..]
            : exception.Path is { Length: > 1 } other && other.StartsWith("$[", StringComparison.Ordinal) ? other[1..]
            : null;
        if (UnmappedPattern().Match(exception.Message) is { Success: true } unmapped)
        {
            var name = unmapped.Groups["name"].Value;
            var unknown = field is null ? name : field.EndsWith(name, StringComparison.Ordinal) ? field : $"{field}.{name}";
            return (unknown, $"Unknown field '{Printable(unknown)}': this endpoint accepts only its documented fields.");
        }
        return field is null
            ? (null, "The body is not valid JSON.")
            : (field, $"Field '{Printable(field)}' has the wrong type or is malformed (numbers are JSON numbers, not strings; amounts may be either).");
    }

    /// <summary>A field name as sent may hold anything; keep the answer readable and safe to log.</summary>
    private static string Printable(string value)
    {
        var clipped = value.Length > 64 ? value[..64] + "…" : value;
        return string.Concat(clipped.Select(c => c is >= ' ' and <= '~' or '…' ? c : '?'));
    }
}
