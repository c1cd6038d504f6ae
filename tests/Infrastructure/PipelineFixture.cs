using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using Dapper;
using FlashSale.Engine.Auth;
using FlashSale.Engine.Kafka;
using FlashSale.Engine.Persistence;
using FlashSale.Engine.Reconciliation;
using FlashSale.Engine.Redis;
using FlashSale.Engine.Storage;
using FlashSale.Engine.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MySqlConnector;
using StackExchange.Redis;

namespace FlashSale.Tests.Infrastructure;

/// <summary>
/// The whole engine as separate processes — an Ingress (with its relay) and a Persister — wired to
/// the real Redis (one server or the cluster), MariaDB and the Kafka-protocol broker. Each fixture gets its own Redis key prefix,
/// Kafka topic, consumer group and MySQL databases (catalog and shards, named after the fixture),
/// so fixtures never see each other's work: a Persister's payment-window scan or reconciler only ever
/// finds orders whose reservations live under its own Redis prefix.
/// </summary>
public class PipelineFixture : IAsyncLifetime
{
    public const int Partitions = 6;

    private static int _fixtures;

    private readonly int _number;

    private readonly string _suffix = Guid.NewGuid().ToString("N")[..10];

    private readonly ServiceProvider _services = new ServiceCollection().AddEngineMetrics<ScriptMetrics>().BuildServiceProvider();

    public KafkaMockBroker Kafka { get; private set; } = null!;

    public ConnectionMultiplexer Redis { get; private set; } = null!;

    public PipelineFixture()
    {
        // Its MySQL databases are named after its own number, unique in this test run; its Redis scope it asks
        // RedisIsolation for when it starts.
        _number = Interlocked.Increment(ref _fixtures);
        Shards = new ShardDataSources([TestEnvironment.MySql(ShardDatabase(0)), TestEnvironment.MySql(ShardDatabase(1))]);
    }

    /// <summary>This fixture's part of Redis, its own for as long as the fixture lives.</summary>
    public RedisScope RedisScope { get; private set; } = null!;

    public string CatalogDatabase => $"flashsale_test_p{_number}_catalog";

    public string Topic => $"test.reservations.{_suffix}";

    public string ConsumerGroup => $"test-persister-{_suffix}";

    public Uri IngressUrl => Ingress.Url;

    /// <summary>The main Persister's metrics and health listener.</summary>
    public Uri PersisterUrl => Persister.Url;

    /// <summary>For a test that calls a Lua script directly, as the hosts do.</summary>
    public SkuScripts Scripts => new(_services.GetRequiredService<ScriptMetrics>());

    public EngineProcess Ingress { get; private set; } = null!;

    public EngineProcess Persister { get; private set; } = null!;

    public ShardDataSources Shards { get; }

    public TokenIssuer Tokens { get; } = new(
        new AuthOptions { SigningKey = TestEnvironment.SigningKey, Issuer = "flashsale", Audience = "flashsale" }, TimeProvider.System);

    public IDatabase Db => RedisScope.Db(Redis);

    public virtual async Task InitializeAsync()
    {
        await ServiceCheck.RequireAsync();
        Kafka = KafkaMockBroker.Find();
        await Kafka.CreateTopicAsync(Topic, Partitions);

        // The fixture's databases start empty, like its Redis prefix: a reconciler must not find the orders of an earlier run.
        await using (var connection = new MySqlConnection(TestEnvironment.MySql("information_schema")))
        {
            foreach (var database in new[] { CatalogDatabase, ShardDatabase(0), ShardDatabase(1) })
            {
                await connection.ExecuteAsync($"DROP DATABASE IF EXISTS `{database}`");
            }
        }
        await StartRedisAsync();
        Redis = await ConnectionMultiplexer.ConnectAsync($"{RedisEndpoint},allowAdmin=true");
        RedisScope = await RedisIsolation.AcquireAsync(Redis);

        // Each host binds a port the system picks and says which; a restart binds the same one again.
        Ingress = EngineProcess.Listening("Ingress", "Ingress", Environment([("Engine__NodeId", "2"), .. IngressSettings()]));
        Persister = EngineProcess.Listening("Persister", "Persister", Environment(PersisterSettings().ToArray()));
        await Ingress.StartAsync();
        await Persister.StartAsync();
    }

    /// <summary>
    /// Kills the engine's processes and starts new ones, configured as the fixture is now: how an operator points the
    /// engine at another Redis (<see cref="RedisEndpoint"/> changed). The new hosts listen on new ports.
    /// </summary>
    public virtual async Task ReplaceEngineAsync()
    {
        await Ingress.DisposeAsync();
        await Persister.DisposeAsync();
        var previous = Redis;
        Redis = await ConnectionMultiplexer.ConnectAsync($"{RedisEndpoint},allowAdmin=true");
        await previous.DisposeAsync();
        Ingress = EngineProcess.Listening("Ingress", "Ingress", Environment([("Engine__NodeId", "2"), .. IngressSettings()]));
        Persister = EngineProcess.Listening("Persister", "Persister", Environment(PersisterSettings().ToArray()));
        await Ingress.StartAsync();
        await Persister.StartAsync();
    }

    /// <summary>The Redis server the engine uses; a fixture with a Redis of its own overrides it (and <see cref="StartRedisAsync"/>).</summary>
    public virtual string RedisEndpoint => TestEnvironment.Redis;

    protected virtual Task StartRedisAsync() => Task.CompletedTask;

    /// <summary>Settings (environment variables) the fixture's Ingress starts with, beyond the common ones.</summary>
    protected virtual IEnumerable<(string Key, string Value)> IngressSettings() => [];

    /// <summary>Settings (environment variables) the fixture's Persister starts with, beyond the common ones.</summary>
    protected virtual IEnumerable<(string Key, string Value)> PersisterSettings() => [];

    public Dictionary<string, string> Environment(params (string Key, string Value)[] extra)
    {
        var environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__Catalog"] = TestEnvironment.MySql(CatalogDatabase),
            ["Shards__ConnectionStrings__0"] = TestEnvironment.MySql(ShardDatabase(0)),
            ["Shards__ConnectionStrings__1"] = TestEnvironment.MySql(ShardDatabase(1)),
            ["Auth__SigningKey"] = TestEnvironment.SigningKey,
            ["Payments__CallbackSecret"] = IngressFactory.PaymentSecret,
            ["Admission__SigningKey"] = IngressFactory.AdmissionKey,
            ["Kafka__BootstrapServers"] = Kafka.BootstrapServers,
            ["Kafka__ReservationsTopic"] = Topic,
            ["Persister__ConsumerGroup"] = ConsumerGroup,
            // Short enough that a test sees a dead relay's entries claimed again within seconds.
            ["Relay__ClaimMinIdleMs"] = "3000",
            ["Relay__ClaimIntervalMs"] = "1000",
            // The relay takes over entries an Ingress did not settle after 4 s (10 s by default), so crash tests wait less.
            ["Relay__SafetyNetAgeMs"] = "4000",
            // Every Persister listens on a port the system picks (see EngineProcess.Listening).
            ["Persister__MetricsUrl"] = "http://127.0.0.1:0",
            // Payment windows of a second or two, so a timeout takes seconds (the default minimum is 30 s).
            ["Campaigns__MinPaymentWindowSeconds"] = "1",
            ["Logging__LogLevel__Default"] = "Information",
            // Admission control is about its own tests (BackpressureTests, a harness run), which turn it on: the others
            // send many requests per buyer, stop the Persister or take Kafka down, and expect the engine's answers then.
            // The deployment's rate limits are off; a campaign's own (the harness's --rate-limits) still apply.
            ["RateLimits__PerBuyer__PermitsPerSecond"] = "0",
            ["RateLimits__PerBuyer__Burst"] = "0",
            ["RateLimits__Concurrency"] = "0",
            ["Backpressure__Enabled"] = "false",
        };
        foreach (var (key, value) in RedisScope.Settings(RedisEndpoint).Concat(extra))
        {
            environment[key] = value;
        }
        return environment;
    }

    public HttpClient Client(string? token = null)
    {
        var client = new HttpClient { BaseAddress = IngressUrl, Timeout = TimeSpan.FromSeconds(30) };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        return client;
    }

    /// <summary>Creates and warms a campaign with the given SKUs (id, stock, per-user limit) through the admin API.</summary>
    public Task<string> StartSaleAsync(params (long SkuId, int Stock, int PerUserLimit)[] skus) => StartSaleAsync(900, skus);

    public Task<string> StartSaleAsync(int paymentWindowSeconds, params (long SkuId, int Stock, int PerUserLimit)[] skus)
        => StartSaleAsync(TestSale.NewCampaignId(), paymentWindowSeconds, skus);

    /// <summary>A campaign under an id the test chose (to place its SKUs on particular cluster slots, <see cref="ClusterSlots"/>).</summary>
    public async Task<string> StartSaleAsync(string campaignId, int paymentWindowSeconds, params (long SkuId, int Stock, int PerUserLimit)[] skus)
    {
        using var admin = Client(Tokens.Mint(1, admin: true));
        var now = DateTimeOffset.UtcNow;
        var skuJson = string.Join(",", skus.Select(s => $$"""{"skuId":{{s.SkuId}},"price":"12.50","stock":{{s.Stock}},"perUserLimit":{{s.PerUserLimit}}}"""));
        using var created = await admin.PostAsync("/api/v1/admin/campaigns", TestSale.Json($$"""
            {"campaignId":"{{campaignId}}","startsAt":"{{TestSale.Iso(now.AddMinutes(-1))}}","endsAt":"{{TestSale.Iso(now.AddHours(1))}}",
             "paymentWindowSeconds":{{paymentWindowSeconds}},"skus":[{{skuJson}}]}
            """));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        using var warmed = await admin.PostAsync($"/api/v1/admin/campaigns/{campaignId}/warmup", null);
        Assert.Equal(HttpStatusCode.OK, warmed.StatusCode);
        return campaignId;
    }

    /// <summary>The Redis server's clock (TIME) in Unix milliseconds: the clock the scripts decide by.</summary>
    public async Task<long> RedisNowMsAsync()
    {
        var time = (RedisResult[])(await Db.ExecuteAsync("TIME"))!;
        return ((long)time[0] * 1_000) + ((long)time[1] / 1_000);
    }

    /// <summary>Every order row of the campaign, from every shard, with the shard it was found in.</summary>
    public async Task<List<OrderRow>> OrdersAsync(string campaignId)
    {
        var perShard = await Shards.OnEveryShardAsync(async (connection, shard) =>
            (await connection.QueryAsync<(long OrderNo, long UserId, long SkuId, int Quantity, decimal Amount, string Status)>(
                "SELECT order_no, user_id, sku_id, quantity, amount, status FROM orders WHERE campaign_id = @campaignId",
                new { campaignId })).Select(r => new OrderRow(shard, r.OrderNo, r.UserId, r.SkuId, r.Quantity, r.Amount, r.Status)),
            CancellationToken.None);
        return [.. perShard.SelectMany(rows => rows)];
    }

    /// <summary>
    /// Waits until the campaign has <paramref name="expected"/> order rows and the Persister has committed everything
    /// the topic holds, so a late duplicate would be among the rows returned.
    /// </summary>
    public async Task<List<OrderRow>> DrainAsync(string campaignId, int expected, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(90));
        while (true)
        {
            var rows = await OrdersAsync(campaignId);
            if (rows.Count >= expected)
            {
                // At least a few seconds, however much of the drain's budget the rows took: offsets commit every 500 ms.
                var remaining = deadline - DateTime.UtcNow;
                await WaitCaughtUpAsync(ConsumerGroup, remaining > TimeSpan.FromSeconds(10) ? remaining : TimeSpan.FromSeconds(10));
                return await OrdersAsync(campaignId);
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException(
                    $"{rows.Count} of {expected} orders reached MySQL.\n--- Ingress ---\n{Tail(Ingress.Log)}\n--- Persister ---\n{Tail(Persister.Log)}");
            }
            await Task.Delay(200);
        }
    }

    /// <summary>
    /// Waits until <paramref name="consumerGroup"/> has committed, on every partition of the fixture's topic, the
    /// topic's end as it is now. A Persister stores an offset only once its batch is durable, so from then on
    /// everything in Kafka has been written (or absorbed as a duplicate).
    /// </summary>
    public async Task WaitCaughtUpAsync(string consumerGroup, TimeSpan? timeout = null)
    {
        // The same check recovery makes before it rebuilds a fenced SKU.
        using var catchUp = new KafkaCatchUp(
            Options.Create(new KafkaOptions { BootstrapServers = Kafka.BootstrapServers, ReservationsTopic = Topic }),
            Options.Create(new PersistenceOptions { ConsumerGroup = consumerGroup }),
            TimeProvider.System);
        var ends = await catchUp.EndsAsync(CancellationToken.None);
        await catchUp.WaitCommittedAsync(ends, timeout ?? Eventually.DefaultTimeout, CancellationToken.None);
    }

    public async Task<(long Reserved, long Sold, long Released)> CountersAsync(string campaignId, long skuId)
    {
        await using var connection = new MySqlConnection(TestEnvironment.MySql(CatalogDatabase));
        return await connection.QuerySingleOrDefaultAsync<(long, long, long)>(
            "SELECT reserved, sold, released FROM campaign_sku_counters WHERE campaign_id = @campaignId AND sku_id = @skuId",
            new { campaignId, skuId });
    }

    public virtual async Task DisposeAsync()
    {
        // Null-tolerant: a fixture whose start failed half-way stops what it started, and its failure stays the one reported.
        await DisposeIfStartedAsync(Ingress);
        await DisposeIfStartedAsync(Persister);
        await Shards.DisposeAsync();
        RedisScope?.Dispose();
        await DisposeIfStartedAsync(Redis);
        await _services.DisposeAsync();
    }

    protected static ValueTask DisposeIfStartedAsync(IAsyncDisposable? started) => started?.DisposeAsync() ?? ValueTask.CompletedTask;

    public string ShardDatabase(int shard) => $"flashsale_test_p{_number}_shard_{shard}";

    private static string Tail(string log) => log.Length > 4_000 ? log[^4_000..] : log;

    /// <summary>
    /// A port free right now, for a server that cannot bind port 0 and say which port it got (redis-server):
    /// another process may take it before the server binds it. Engine hosts use <see cref="EngineProcess.Listening"/>.
    /// </summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

public sealed record OrderRow(int Shard, long OrderNo, long UserId, long SkuId, int Quantity, decimal Amount, string Status);

[CollectionDefinition(Name)]
public sealed class PipelineCollection
{
    public const string Name = "pipeline";
}
