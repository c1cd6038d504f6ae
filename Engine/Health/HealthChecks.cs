using FlashSale.Engine.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;

namespace FlashSale.Engine.Health;

public sealed class RedisHealthCheck(IDatabase redis) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var latency = await redis.PingAsync();
            return HealthCheckResult.Healthy($"PING {latency.TotalMilliseconds:0.0} ms");
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy("Redis is unreachable.", ex);
        }
    }
}

public sealed class CatalogHealthCheck(CatalogDataSource catalog) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var connection = await catalog.OpenConnectionAsync(cancellationToken);
            await connection.PingAsync(cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (MySqlConnector.MySqlException ex)
        {
            return HealthCheckResult.Unhealthy("The catalog database is unreachable.", ex);
        }
    }
}

public static class HealthSetup
{
    public const string ReadyTag = "ready";

    public static IHealthChecksBuilder AddFlashSaleHealthChecks(this IServiceCollection services)
        => services.AddHealthChecks()
            .AddCheck<RedisHealthCheck>("redis", tags: [ReadyTag])
            .AddCheck<CatalogHealthCheck>("mariadb-catalog", tags: [ReadyTag]);

    /// <summary><c>/health/live</c> (the process answers) and <c>/health/ready</c> (Redis and the catalog answer).</summary>
    public static IEndpointRouteBuilder MapFlashSaleHealth(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains(ReadyTag) });
        return app;
    }
}
