using System.Collections.Concurrent;
using System.Runtime;
using System.Text.Json;
using FlashSale.Contracts;

// The floor under the engine's numbers: Kestrel and routing on the reservation route, answering a
// constant body of the engine's size, with none of the engine's work (no token check, no body parsing,
// no Redis). With --stock n each SKU route answers 201 n times, then the engine's sold-out 409, so the
// same request stream gets the same mix of answers the engine gives it. The load-test harness starts
// it as a child process for --baseline; it can be run on its own too:
//   dotnet loadtests/BaselineServer/bin/Release/net10.0/FlashSale.LoadTests.BaselineServer.dll --urls http://127.0.0.1:5099 --stock 100
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information);
var app = builder.Build();

var stock = app.Configuration.GetValue<long?>("stock");
var issued = new ConcurrentDictionary<string, Counter>(StringComparer.Ordinal);

// Bodies and header as the engine writes them (the contract's reservation, a sold-out problem+json), made once.
const string OrderNo = "251604743623802922";
var created = JsonSerializer.SerializeToUtf8Bytes(new ReservationResponse(
    OrderNo, "lt-0123456789ab", 1, 1, "9.99", OrderStatus.PendingPayment, new DateTime(2026, 1, 1, 0, 15, 0, DateTimeKind.Utc)), JsonSerializerOptions.Web);
var soldOut = JsonSerializer.SerializeToUtf8Bytes(new
{
    type = ProblemTypes.Uri(ProblemTypes.SoldOut),
    title = "Sold out",
    status = 409,
    detail = "This SKU is sold out.",
    traceId = "0HNQBHFKFE3CC:00000001",
});
var location = ApiRoutes.OrderPath(OrderNo);

app.MapGet("/health/ready", () => "Healthy");
app.MapPost(ApiRoutes.Reservations, context =>
{
    var response = context.Response;
    var isCreated = stock is not { } limit || Interlocked.Increment(ref issued.GetOrAdd(SkuPath(context), static _ => new Counter()).Value) <= limit;
    if (isCreated)
    {
        response.StatusCode = StatusCodes.Status201Created;
        response.ContentType = "application/json; charset=utf-8";
        response.Headers.Location = location;
        return response.Body.WriteAsync(created).AsTask();
    }
    response.StatusCode = StatusCodes.Status409Conflict;
    response.ContentType = "application/problem+json";
    return response.Body.WriteAsync(soldOut).AsTask();
});

app.Lifetime.ApplicationStarted.Register(() => Console.WriteLine(
    $"Constant endpoint ready: {(stock is { } s ? $"201 for the first {s} reservations of each SKU, then sold-out" : "201 for every reservation")}; "
    + $"{(GCSettings.IsServerGC ? "server" : "workstation")} GC, {Environment.ProcessorCount} processors."));
await app.RunAsync();

static string SkuPath(HttpContext context)
    => string.Concat(context.Request.RouteValues["campaignId"] as string, ":", context.Request.RouteValues["skuId"] as string);

/// <summary>A counter per SKU route, shared by reference so Interlocked can count on it.</summary>
internal sealed class Counter
{
    public long Value;
}
