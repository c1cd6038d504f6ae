using System.Reflection;
using FlashSale.Contracts;
using FlashSale.Tests.Infrastructure;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace FlashSale.Tests.Contracts;

/// <summary>The Ingress maps exactly the routes the contract names: clients build their paths from these constants.</summary>
[Collection(IngressCollection.Name)]
public sealed class ApiContractTests(IngressFactory factory)
{
    [Fact]
    public void EveryApiEndpointIsAContractRouteAndEveryContractRouteIsMapped()
    {
        var mapped = factory.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Select(e => e.RoutePattern.RawText!.TrimEnd('/'))
            .Where(p => p.StartsWith("/api/", StringComparison.Ordinal))
            .ToHashSet(StringComparer.Ordinal);
        // A group prefix such as ApiRoutes.Orders is also a route of its own (the list).
        var contract = typeof(ApiRoutes).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.GetRawConstantValue() is string s && s.StartsWith("/api/", StringComparison.Ordinal))
            .Select(f => (string)f.GetRawConstantValue()!)
            .ToHashSet(StringComparer.Ordinal);

        Assert.Empty(mapped.Except(contract));
        // Prefixes of routes (campaigns, payments) are not endpoints themselves.
        var unmapped = contract.Except(mapped).Where(route => !mapped.Any(m => m.StartsWith(route + "/", StringComparison.Ordinal))).ToList();
        Assert.Empty(unmapped);
    }

    [Fact]
    public void PathHelpersFillTheTemplates()
    {
        Assert.Equal("/api/v1/campaigns/c-1/skus/7/reservations", ApiRoutes.ReservationsPath("c-1", 7));
        Assert.Equal("/api/v1/orders/42/cancel", ApiRoutes.OrderCancelPath("42"));
        Assert.Equal("/api/v1/admin/campaigns/c-1/skus/7/ledger", ApiRoutes.SkuLedgerPath("c-1", 7));
        Assert.Equal("https://flashsale.dev/problems/sold-out", ProblemTypes.Uri(ProblemTypes.SoldOut));
        Assert.Equal(ProblemTypes.SoldOut, ProblemTypes.Slug("https://flashsale.dev/problems/sold-out"));
    }
}
