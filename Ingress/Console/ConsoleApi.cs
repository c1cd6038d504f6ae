using FlashSale.Contracts;
using FlashSale.Engine.Live;
using FlashSale.Ingress.Infrastructure;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.FileProviders;

namespace FlashSale.Ingress.Console;

/// <summary>
/// The operator console: a static page (embedded in the Ingress, no CDN) at <see cref="ApiRoutes.ConsolePage"/> and its live
/// stream at <see cref="ApiRoutes.AdminLive"/>. The page itself holds no data and needs no token; it reads the admin token from
/// its URL fragment (never sent to a server) and sends it as a bearer header to the admin API and the stream.
/// </summary>
internal static class ConsoleApi
{
    private const string PageNamespace = "FlashSale.Ingress.Console.Page";

    // Everything from the Ingress itself: no inline script or style, no other origin.
    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    public static IApplicationBuilder UseConsolePage(this IApplicationBuilder app)
    {
        var files = Files();
        return app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            RequestPath = ApiRoutes.ConsolePage,
            OnPrepareResponse = context => Protect(context.Context.Response),
        });
    }

    public static IEndpointRouteBuilder MapConsole(this IEndpointRouteBuilder app)
    {
        var index = Files().GetFileInfo("index.html");
        app.MapGet(ApiRoutes.ConsolePage, (HttpResponse response) =>
        {
            Protect(response);
            return TypedResults.Stream(index.CreateReadStream(), "text/html; charset=utf-8");
        }).ExcludeFromDescription().DisableHttpMetrics();
        app.MapGet(ApiRoutes.AdminLive, Live).WithTags("Console").RequireAuthorization(AuthSetup.AdminPolicy);
        return app;
    }

    /// <summary>The live view, one <c>update</c> event a second, for the whole deployment (see <see cref="LiveFeed"/>).</summary>
    public static ServerSentEventsResult<LiveUpdate> Live(LiveFeed feed, CancellationToken cancellationToken)
        => TypedResults.ServerSentEvents(feed.WatchAsync(cancellationToken), eventType: "update");

    private static EmbeddedFileProvider Files() => new(typeof(ConsoleApi).Assembly, PageNamespace);

    private static void Protect(HttpResponse response)
    {
        response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        response.Headers.CacheControl = "no-cache";
        response.Headers["Referrer-Policy"] = "no-referrer";
        response.Headers.XContentTypeOptions = "nosniff";
    }
}
