using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FlashSale.Engine.Auth;
using FlashSale.Ingress.Payments;
using FlashSale.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Xunit.Abstractions;

namespace FlashSale.Tests.Api;

/// <summary>
/// Sends a generated set of malformed requests to every endpoint the app maps (read from its
/// <see cref="EndpointDataSource"/>, so a new endpoint is covered without touching this test): odd route
/// values, query parameters, headers, tokens, content types and bodies. None may be a server error other
/// than the documented retryable 503s (<c>unavailable</c> only once: twice in a row it is deterministic), and every
/// refusal of an API endpoint is a problem document of ours.
/// </summary>
public abstract class EndpointFuzzTests(IngressFactory factory, ITestOutputHelper output)
{
    private const int MaxFailuresShown = 40;

    /// <summary>Route values and query values as they go on the wire (already percent-encoded).</summary>
    private static readonly string[] BadValues =
    [
        .. new[]
        {
            "abc", "", " ", "-1", "0", "1.5", "1,5", "2147483648", "-2147483649", "9223372036854775807", "9223372036854775808",
            "99999999999999999999999999999", "1e10", "0x10", "+1", "true", "maybe", "null", "{}", "[]", "..", "a b",
            "\u0000", "\r\n", "\u202Eevil", "\uD83D\uDE00", "é", "SEC-X", "'; DROP TABLE campaigns; --", "{x}", "*",
            new string('9', 400), new string('a', 5000),
        }.Select(Uri.EscapeDataString),
        "%FF%FE", "%2F", "%C0%AF", "%E2%80%AE",
    ];

    private static readonly string[] RoleList = ["admin", "buyer"];

    private static readonly string[] GenericQueryNames = ["limit", "cursor", "force", "outcome", "campaignId", "skuId"];

    private static readonly object?[] BadJsonValues =
    [
        null, "1", "", " ", "abc", "1e5", "\u0000", "\u202E", new string('x', 10_000), 0, -1, 1.5, true,
        JsonNode.Parse("1e400"), JsonNode.Parse("99999999999999999999999999999999"), JsonNode.Parse("-0"),
        JsonNode.Parse("[]"), JsonNode.Parse("{}"), JsonNode.Parse("[1]"), "2026-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00", "199.001", "-199.00", "1e-400", "NaN", "Infinity",
    ];

    private static readonly string[] BadSkuLists =
        ["null", "[null]", "[1]", "[{}]", "[[]]", "{}", "\"x\"", "[" + string.Join(",", Enumerable.Repeat("null", 20_000)) + "]"];

    private static readonly string[] BadBodies =
    [
        "", " ", "null", "true", "0", "-1", "\"x\"", "[]", "{}", "{", "}", "[", "{\"a\":}", "{'quantity':1}", "{\"quantity\":1,}",
        "1e99999", "{\"quantity\":1}{\"quantity\":2}", "{\"quantity\":1} trailing", "\u0000", "\uFEFF{\"quantity\":1}",
        new string('[', 5000) + new string(']', 5000),
        string.Concat(Enumerable.Repeat("{\"a\":", 200)) + "1" + new string('}', 200),
        "{\"" + new string('k', 100_000) + "\":1}",
        "{\"quantity\":\"" + new string('1', 200_000) + "\"}",
    ];

    private static readonly string?[] ContentTypes =
    [
        "application/json", null, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
        "application/json; charset=utf-16", "application/json; charset=nonsense", "application/xml", "*/*", "application/json, text/plain",
    ];

    [Fact]
    public async Task NoMalformedRequestToAnyEndpointIsAServerError()
    {
        var sale = await TestSale.StartAsync(factory, stock: 100_000, perUserLimit: 1_000);
        using (var buyer = factory.Buyer(1))
        using (var reserved = await sale.ReserveAsync(buyer, "fuzz-order"))
        {
            Assert.Equal(HttpStatusCode.Created, reserved.StatusCode);
        }
        await ShardOrders.PersistAsync(factory, sale);
        var orderNo = (string)Assert.Single(await RedisLedger.AllAsync(sale.Db, sale.Keys)).Name!;
        var routeValues = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            ["campaignId"] = sale.CampaignId,
            ["documentName"] = "v1",
            ["skuId"] = sale.SkuId.ToString(CultureInfo.InvariantCulture),
            ["orderNo"] = orderNo,
        };

        var endpoints = factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().ToList();
        // The API itself, health, metrics and OpenAPI: a sanity check that enumeration found them.
        Assert.True(endpoints.Count >= 15, $"Only {endpoints.Count} endpoints found");

        var requests = endpoints.SelectMany(e => Generate(e, routeValues, sale)).ToList();
        var failures = new ConcurrentBag<string>();
        var statuses = new ConcurrentDictionary<int, int>();
        await Parallel.ForEachAsync(requests, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (fuzz, cancellationToken) =>
        {
            using var client = factory.CreateClient();
            // A 503 unavailable may be the machine's load; the same one twice is bad input reaching a backend.
            for (var attempt = 1; attempt <= 2; attempt++)
            {
                using var request = fuzz.Build();
                HttpResponseMessage response;
                try
                {
                    response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    failures.Add($"{fuzz}: threw {ex.GetType().Name}: {ex.Message} {ex.StackTrace?.Split('\n').Take(6).Aggregate((a, b) => a + " | " + b)}");
                    return;
                }
                using (response)
                {
                    // A stream (the console's live view) that was accepted never ends: its headers are the answer.
                    if (response.IsSuccessStatusCode && response.Content.Headers.ContentType?.MediaType == "text/event-stream")
                    {
                        statuses.AddOrUpdate((int)response.StatusCode, 1, (_, n) => n + 1);
                        return;
                    }
                    var text = await response.Content.ReadAsStringAsync(cancellationToken);
                    if (attempt == 1 && response.StatusCode == HttpStatusCode.ServiceUnavailable && text.Contains("/problems/unavailable", StringComparison.Ordinal))
                    {
                        continue;
                    }
                    statuses.AddOrUpdate((int)response.StatusCode, 1, (_, n) => n + 1);
                    if (ProblemWith(response, text) is { } problem)
                    {
                        failures.Add($"{fuzz}: {problem}");
                    }
                    return;
                }
            }
        });

        var summary = string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}×{s.Value}"));
        output.WriteLine($"{requests.Count} requests to {endpoints.Count} endpoints: {summary}");
        Assert.True(failures.IsEmpty,
            $"{failures.Count} of {requests.Count} requests failed ({summary}):\n" + string.Join("\n", failures.Take(MaxFailuresShown).Order(StringComparer.Ordinal)));
    }

    /// <summary>Why this answer is wrong, or null when it is fine.</summary>
    private static string? ProblemWith(HttpResponseMessage response, string text)
    {
        var status = (int)response.StatusCode;
        if (status < 400)
        {
            return null;
        }
        string? type = null;
        if (response.Content.Headers.ContentType?.MediaType == "application/problem+json")
        {
            try
            {
                type = JsonDocument.Parse(text).RootElement.GetProperty("type").GetString();
            }
            catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                return $"{status} with an unreadable problem: {Clip(text)}";
            }
        }
        if (status >= 500 && !(status == 503 && type == "https://flashsale.dev/problems/order-not-yet-persisted"))
        {
            return $"{status} {type}: {Clip(text)}";
        }
        // The API's refusals are ours; the OpenAPI document endpoint answers its own plain 404 for an unknown document.
        if (response.RequestMessage?.RequestUri?.AbsolutePath.StartsWith("/api/", StringComparison.Ordinal) == true
            && (type is null || !type.StartsWith("https://flashsale.dev/problems/", StringComparison.Ordinal)))
        {
            return $"{status} without a problem type of ours ({response.Content.Headers.ContentType}): {Clip(text)}";
        }
        return null;
    }

    private IEnumerable<FuzzRequest> Generate(RouteEndpoint endpoint, Dictionary<string, string> valid, TestSale sale)
    {
        var methods = endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"];
        var handler = endpoint.Metadata.OfType<MethodInfo>().FirstOrDefault();
        var routeNames = endpoint.RoutePattern.Parameters.Select(p => p.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var queryNames = (handler?.GetParameters() ?? [])
            .Where(p => p.Name is not null && !routeNames.Contains(p.Name) && IsSimple(p.ParameterType)
                && p.GetCustomAttribute<FromHeaderAttribute>() is null && p.GetCustomAttribute<FromRouteAttribute>() is null)
            .Select(p => p.GetCustomAttribute<FromQueryAttribute>()?.Name ?? p.Name!)
            .Concat(GenericQueryNames)
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .ToList();
        var template = TemplateBody(endpoint.RoutePattern.RawText ?? "", sale);
        var admin = factory.Tokens.Mint(1, admin: true);

        // A method the endpoint does not map, once.
        yield return new FuzzRequest("PATCH", Path(endpoint.RoutePattern, valid), admin, template, "application/json");
        foreach (var method in methods)
        {
            var path = Path(endpoint.RoutePattern, valid);
            var baseline = new FuzzRequest(method, path, admin, template, "application/json");

            // Route values, one at a time.
            foreach (var name in routeNames)
            {
                // A NUL in the path never reaches the app: Kestrel refuses the request line, and TestServer cannot build one.
                foreach (var value in BadValues.Where(v => v != "%00"))
                {
                    yield return baseline with { Path = Path(endpoint.RoutePattern, new Dictionary<string, string>(valid) { [name] = value }) };
                }
            }

            // Query parameters: bad, empty, absent value, repeated.
            foreach (var name in queryNames)
            {
                foreach (var value in BadValues)
                {
                    yield return baseline with { Path = $"{path}?{name}={value}" };
                }
                yield return baseline with { Path = $"{path}?{name}" };
                yield return baseline with { Path = $"{path}?{name}=1&{name}=2" };
                yield return baseline with { Path = $"{path}?{name}=true&{name}=false" };
                yield return baseline with { Path = $"{path}?{name}=5&{Uri.EscapeDataString(name.ToUpperInvariant())}=6" };
            }

            // Tokens and the headers the endpoints read.
            foreach (var authorization in OddAuthorizations())
            {
                yield return baseline with { Token = null, Authorization = authorization };
            }
            foreach (var key in OddHeaderValues())
            {
                yield return baseline with { Headers = [(ReservationsHeader, key)] };
                yield return baseline with { Headers = [("X-Timestamp", key)], Sign = false };
                yield return baseline with { Headers = [("X-Signature", key)], Sign = false };
            }
            yield return baseline with { Headers = [(ReservationsHeader, "a"), (ReservationsHeader, "b")] };

            // Bodies: generic junk in every content type, and the endpoint's own body with each member spoilt.
            foreach (var body in BadBodies)
            {
                foreach (var contentType in method == "GET" ? ContentTypes[..1] : ContentTypes)
                {
                    yield return baseline with { Body = body, ContentType = contentType };
                }
            }
            yield return baseline with { RawBody = [0xFF, 0xFE, 0x00, 0x7B, 0xC0, 0xAF] };
            yield return baseline with { RawBody = Encoding.Unicode.GetBytes("{\"quantity\":1}") };
            foreach (var body in SpoiltBodies(template))
            {
                yield return baseline with { Body = body };
            }
        }
    }

    private const string ReservationsHeader = "Idempotency-Key";

    private static IEnumerable<string> OddHeaderValues() =>
    [
        "", " ", "\t", new string('a', 65), new string('a', 10_000), "ключ", "k\u0000", "k\u202E", "k, k2", "-1",
        "99999999999999999999", "1e3", "abc", new string('g', 64), new string('A', 64), "0x10",
    ];

    private IEnumerable<string> OddAuthorizations()
    {
        var key = new SymmetricSecurityKey(Encoding.UTF8.GetBytes(TestEnvironment.SigningKey));
        string Token(Dictionary<string, object> claims, SymmetricSecurityKey? signing = null, DateTime? expires = null)
        {
            var now = DateTime.UtcNow;
            return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
            {
                Claims = claims,
                Issuer = "flashsale",
                Audience = "flashsale",
                IssuedAt = (expires ?? now.AddHours(1)).AddHours(-2),
                NotBefore = (expires ?? now.AddHours(1)).AddHours(-2),
                Expires = expires ?? now.AddHours(1),
                SigningCredentials = new SigningCredentials(signing ?? key, SecurityAlgorithms.HmacSha256),
            });
        }

        foreach (var sub in new[] { "abc", "-5", "0", "99999999999999999999", "", " 1", "1\u0000", "1.0", "+1" })
        {
            yield return "Bearer " + Token(new() { [JwtRegisteredClaimNames.Sub] = sub });
            yield return "Bearer " + Token(new() { [JwtRegisteredClaimNames.Sub] = sub, [AuthOptions.RoleClaim] = AuthOptions.AdminRole });
        }
        yield return "Bearer " + Token(new() { [AuthOptions.RoleClaim] = AuthOptions.AdminRole });
        yield return "Bearer " + Token(new() { [JwtRegisteredClaimNames.Sub] = 7L, [AuthOptions.RoleClaim] = RoleList });
        yield return "Bearer " + Token(new() { [JwtRegisteredClaimNames.Sub] = "7" }, expires: DateTime.UtcNow.AddHours(-1));
        yield return "Bearer " + Token(new() { [JwtRegisteredClaimNames.Sub] = "7" },
            signing: new SymmetricSecurityKey(Encoding.UTF8.GetBytes(new string('k', 64))));
        yield return "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIiwicm9sZSI6ImFkbWluIn0.";
        foreach (var odd in new[]
        {
            "", "Bearer", "Bearer ", "bearer " + factory.Tokens.Mint(1, admin: true), "Basic Zm9vOmJhcg==", "Bearer abc", "Bearer a.b.c",
            "Bearer ....", "Bearer " + new string('a', 20_000), "Bearer \u0000", "Bearer ключ", "Negotiate x", "Bearer a b c",
        })
        {
            yield return odd;
        }
    }

    /// <summary>A well-formed body for the endpoints that read one, so each member can be spoilt in turn.</summary>
    private static JsonObject? TemplateBody(string route, TestSale sale)
    {
        if (route.EndsWith("/reservations", StringComparison.Ordinal) || route.EndsWith("/reservations/", StringComparison.Ordinal))
        {
            return new JsonObject { ["quantity"] = 1 };
        }
        if (route.TrimEnd('/').EndsWith("/admin/campaigns", StringComparison.Ordinal))
        {
            return JsonNode.Parse($$"""
                {"campaignId":"{{TestSale.NewCampaignId()}}","startsAt":"2026-01-01T00:00:00Z","endsAt":"2027-01-01T00:00:00Z",
                 "paymentWindowSeconds":900,"skus":[{"skuId":1,"price":"1.00","stock":5,"perUserLimit":1}]}
                """)!.AsObject();
        }
        if (route.TrimEnd('/').EndsWith("/payments/callbacks", StringComparison.Ordinal))
        {
            return new JsonObject { ["orderNo"] = "1", ["providerTxnId"] = "fuzz-" + sale.CampaignId, ["amount"] = "199.00", ["status"] = "succeeded" };
        }
        return null;
    }

    private static IEnumerable<string> SpoiltBodies(JsonObject? template)
    {
        if (template is null)
        {
            yield break;
        }
        foreach (var (path, _) in Members(template, ""))
        {
            foreach (var value in BadJsonValues)
            {
                yield return Replace(template, path, value is JsonNode node ? node.DeepClone() : JsonValue.Create(value));
            }
            yield return Replace(template, path, null, remove: true);
        }
        var extra = template.DeepClone().AsObject();
        extra["unexpected"] = 1;
        yield return extra.ToJsonString();
        if (template["skus"] is not null)
        {
            foreach (var skus in BadSkuLists)
            {
                var copy = template.DeepClone().AsObject();
                copy["skus"] = JsonNode.Parse(skus);
                yield return copy.ToJsonString();
            }
        }
    }

    private static IEnumerable<(string Path, JsonNode? Value)> Members(JsonNode node, string prefix)
    {
        if (node is JsonObject obj)
        {
            foreach (var (name, value) in obj)
            {
                var path = prefix.Length == 0 ? name : $"{prefix}.{name}";
                yield return (path, value);
                if (value is JsonObject or JsonArray)
                {
                    foreach (var inner in Members(value, path))
                    {
                        yield return inner;
                    }
                }
            }
        }
        else if (node is JsonArray array && array.Count > 0 && array[0] is { } first)
        {
            foreach (var inner in Members(first, prefix + ".0"))
            {
                yield return inner;
            }
        }
    }

    private static string Replace(JsonObject template, string path, JsonNode? value, bool remove = false)
    {
        var copy = template.DeepClone();
        var parts = path.Split('.');
        JsonNode parent = copy;
        foreach (var part in parts[..^1])
        {
            parent = int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var index) ? parent[index]! : parent[part]!;
        }
        if (remove)
        {
            parent.AsObject().Remove(parts[^1]);
        }
        else
        {
            parent[parts[^1]] = value;
        }
        return copy.ToJsonString();
    }

    private static string Path(RoutePattern pattern, Dictionary<string, string> values)
    {
        var builder = new StringBuilder();
        foreach (var segment in pattern.PathSegments)
        {
            builder.Append('/');
            foreach (var part in segment.Parts)
            {
                builder.Append(part switch
                {
                    RoutePatternLiteralPart literal => literal.Content,
                    RoutePatternParameterPart parameter => values.TryGetValue(parameter.Name, out var v) ? v : "1",
                    RoutePatternSeparatorPart separator => separator.Content,
                    _ => "",
                });
            }
        }
        return builder.Length == 0 ? "/" : builder.ToString();
    }

    private static bool IsSimple(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(DateTime)
            || type == typeof(DateTimeOffset) || type == typeof(Guid) || type == typeof(TimeSpan);
    }

    private static string Clip(string text) => text.Length > 300 ? text[..300] + "…" : text;

    private sealed record FuzzRequest(string Method, string Path, string? Token, JsonObject? Template, string? ContentType)
    {
        public string? Authorization { get; init; }

        public IReadOnlyList<(string Name, string Value)> Headers { get; init; } = [];

        public string? Body { get; init; }

        public byte[]? RawBody { get; init; }

        /// <summary>Sign the body as the payment provider would, so callback bodies get past the signature.</summary>
        public bool Sign { get; init; } = true;

        public HttpRequestMessage Build()
        {
            var request = new HttpRequestMessage(new HttpMethod(Method), new Uri(Path, UriKind.Relative));
            var bytes = RawBody ?? (Body is not null ? Encoding.UTF8.GetBytes(Body) : Template is not null ? Encoding.UTF8.GetBytes(Template.ToJsonString()) : null);
            if (bytes is not null && (Method != "GET" || Body is not null || RawBody is not null))
            {
                request.Content = new ByteArrayContent(bytes);
                if (ContentType is not null)
                {
                    request.Content.Headers.TryAddWithoutValidation("Content-Type", ContentType);
                }
            }
            if (Authorization is not null)
            {
                request.Headers.TryAddWithoutValidation("Authorization", Authorization);
            }
            else if (Token is not null)
            {
                request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + Token);
            }
            if (!Headers.Any(h => h.Name == ReservationsHeader))
            {
                request.Headers.TryAddWithoutValidation(ReservationsHeader, "fuzz-key");
            }
            if (Sign)
            {
                var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
                request.Headers.TryAddWithoutValidation("X-Timestamp", timestamp);
                request.Headers.TryAddWithoutValidation("X-Signature",
                    Convert.ToHexStringLower(PaymentsApi.Sign(IngressFactory.PaymentSecret, timestamp, bytes ?? [])));
            }
            foreach (var (name, value) in Headers)
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }
            return request;
        }

        public override string ToString()
        {
            var body = RawBody is not null ? $"<{RawBody.Length} raw bytes>" : Body is not null ? Clip(Body.Replace("\u0000", "\\0", StringComparison.Ordinal)) : "";
            var headers = string.Join(" ", Headers.Select(h => $"{h.Name}: {Clip(h.Value)}"));
            var auth = Authorization is null ? "" : $" auth=[{Clip(Authorization)[..Math.Min(40, Clip(Authorization).Length)]}]";
            return $"{Method} {Clip(Path)} [{ContentType}]{auth} {headers} {(body.Length > 120 ? body[..120] + "…" : body)}".TrimEnd();
        }
    }
}

[Collection(IngressCollection.Name)]
public sealed class EndpointFuzzInTestingTests(IngressFactory factory, ITestOutputHelper output) : EndpointFuzzTests(factory, output);

[Collection(DevelopmentIngressCollection.Name)]
public sealed class EndpointFuzzInDevelopmentTests(DevelopmentIngressFactory factory, ITestOutputHelper output) : EndpointFuzzTests(factory, output);
