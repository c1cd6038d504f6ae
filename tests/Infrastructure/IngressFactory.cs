using System.Net.Http.Headers;
using FlashSale.Engine.Auth;
using FlashSale.Engine.Persistence;
using FlashSale.Engine.Telemetry;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using MySqlConnector;
using StackExchange.Redis;

namespace FlashSale.Tests.Infrastructure;

/// <summary>
/// The real Ingress, in process, against the real Redis and MariaDB. Starting it fails loudly when
/// a service is missing: these tests never skip.
/// </summary>
public class IngressFactory : WebApplicationFactory<Program>, IAsyncLifetime
{
    public const string CatalogDatabase = "flashsale_test_catalog";
    public const string Shard0Database = "flashsale_test_shard_0";
    public const string Shard1Database = "flashsale_test_shard_1";

    /// <summary>Test-only payment provider secret.</summary>
    public const string PaymentSecret = "TEST-ONLY-payment-secret-0123456789";

    /// <summary>Test-only key of admission tokens and queue tickets.</summary>
    public const string AdmissionKey = "TEST-ONLY-admission-token-key-0123456789";

    public IConnectionMultiplexer Redis => Services.GetRequiredService<IConnectionMultiplexer>();

    /// <summary>The engine's keys as the engine names them (its <c>Redis:KeyPrefix</c> applied).</summary>
    public IDatabase Db => Services.GetRequiredService<IDatabase>();

    public TokenIssuer Tokens => Services.GetRequiredService<TokenIssuer>();

    /// <summary>The host's environment; Development changes framework behaviour (e.g. how parameter binding fails).</summary>
    protected virtual string EnvironmentName => "Testing";

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(EnvironmentName);
        foreach (var (key, value) in RedisIsolation.InProcess.Settings(TestEnvironment.Redis))
        {
            builder.UseSetting(key.Replace("__", ":", StringComparison.Ordinal), value);
        }
        builder.UseSetting("ConnectionStrings:Catalog", TestEnvironment.MySql(CatalogDatabase));
        builder.UseSetting("Auth:SigningKey", TestEnvironment.SigningKey);
        builder.UseSetting("Auth:Issuer", "flashsale");
        builder.UseSetting("Auth:Audience", "flashsale");
        builder.UseSetting("Engine:NodeId", "1");
        builder.UseSetting("Payments:CallbackSecret", PaymentSecret);
        builder.UseSetting("Admission:SigningKey", AdmissionKey);
        builder.UseSetting("Shards:ConnectionStrings:0", TestEnvironment.MySql(Shard0Database));
        builder.UseSetting("Shards:ConnectionStrings:1", TestEnvironment.MySql(Shard1Database));
        // These tests look at the outbox itself; the pipeline tests run the relay in real processes.
        builder.UseSetting("Relay:Enabled", "false");
        // and answer as the decision is made: no Kafka in process (durable acknowledgement is tested with processes).
        builder.UseSetting("Reservations:Acknowledge", "Decided");
        // Tests send many requests per buyer, all from one address: the deployment's limits are off here, and a test
        // about limits gives its campaign limits of its own (which stay in force: RateLimits:Enabled is left true).
        builder.UseSetting("RateLimits:PerBuyer:PermitsPerSecond", "0");
        builder.UseSetting("RateLimits:PerBuyer:Burst", "0");
        builder.UseSetting("RateLimits:Concurrency", "0");
        // No relay in process: nobody drains the outboxes, so their backlog would read as a pipeline behind.
        builder.UseSetting("Backpressure:Enabled", "false");
        // The Persister's writer, for tests that put reservations into the shards without running a Persister (ShardOrders).
        builder.ConfigureServices(services => services.AddEngineMetrics<PersistenceMetrics>().AddSingleton<OrderBatchWriter>());
    }

    public async Task InitializeAsync()
    {
        await ServiceCheck.RequireAsync();
        _ = Server; // starts the host: migrations run here
    }

    public HttpClient Buyer(long userId) => Authorized(Tokens.Mint(userId));

    public HttpClient Admin() => Authorized(Tokens.Mint(1, admin: true));

    public HttpClient Authorized(string token)
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    Task IAsyncLifetime.DisposeAsync() => DisposeAsync().AsTask();
}

public static class ServiceCheck
{
    public static async Task RequireAsync()
    {
        try
        {
            await using var redis = await ConnectionMultiplexer.ConnectAsync(TestEnvironment.Redis + ",connectTimeout=3000");
            await redis.GetDatabase().PingAsync();
        }
        catch (RedisConnectionException ex)
        {
            throw new InvalidOperationException(
                $"Redis is not reachable at {TestEnvironment.Redis}. Run the tests with dev/test.sh, which starts it.", ex);
        }
        try
        {
            await using var connection = new MySqlConnection(TestEnvironment.MySql(""));
            await connection.OpenAsync();
        }
        catch (MySqlException ex)
        {
            throw new InvalidOperationException(
                $"MariaDB is not reachable on port {TestEnvironment.MySqlPort}. Run the tests with dev/test.sh, which starts it.", ex);
        }
    }
}

[CollectionDefinition(Name)]
public sealed class IngressCollection : ICollectionFixture<IngressFactory>
{
    public const string Name = "ingress";
}
