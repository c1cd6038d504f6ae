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

    private static string Expectation(string type) => type.TrimEnd('?') switch
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
