using System.Security.Cryptography;
using Dapper;
using FlashSale.Bench.Infrastructure;
using FlashSale.Contracts;
using FlashSale.Engine;
using FlashSale.Engine.Campaigns;
using FlashSale.Engine.Fencing;
using FlashSale.Engine.Redis;
using FlashSale.Engine.Reservations;
using FlashSale.Engine.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace FlashSale.Bench.Reservations;

/// <summary>
/// One hot SKU on sale through the engine, wired the way Ingress wires it: a host with
/// <see cref="EngineSetup.AddFlashSaleEngine"/>, the catalog migrated, a campaign created and warmed into Redis.
/// Every reservation comes from a new buyer, so the per-user limit of 1 never refuses one. Its keys carry the prefix
/// <see cref="LocalServices.RedisKeyPrefix"/>, away from the dev engine's; on a Redis Cluster as on one server. A SKU
/// split into stock buckets gets, on a cluster, an id whose buckets fall on as many masters as there are (each bucket
/// holds a third of a stock that never runs out, so no transfer happens: the benchmark measures the decisions alone).
/// </summary>
public sealed class EngineHotSku : IAsyncDisposable
{
    public const int Stock = CampaignValidator.MaxStock;

    // The idempotency field is userId:key and every buyer is new, so one key string serves all of them.
    private const string IdempotencyKey = "bench-order-1";

    private readonly IHost _host;
    private readonly CampaignDefinition _campaign;
    private readonly ReservationService _reservations;
    private long _lastUserId;

    private EngineHotSku(IHost host, CampaignDefinition campaign)
    {
        _host = host;
        _campaign = campaign;
        _reservations = host.Services.GetRequiredService<ReservationService>();
    }

    public long SkuId => _campaign.Skus[0].SkuId;

    public long Reserved => Volatile.Read(ref _lastUserId);

    /// <summary>The engine's Redis connection (every master of a cluster).</summary>
    public IConnectionMultiplexer Redis => _host.Services.GetRequiredService<IConnectionMultiplexer>();

    /// <summary>Where each of the SKU's buckets lives: the master's endpoint per bucket.</summary>
    public async Task<string[]> BucketMastersAsync()
    {
        var topology = await RedisTopology.ReadAsync(Redis);
        return [.. new SkuKeys(_campaign.CampaignId, SkuId).AllBuckets(_campaign.Skus[0].Buckets)
            .Select(b => topology.PrimaryOf(b).EndPoint)];
    }

    /// <param name="maxBatch">Reservations:MaxBatch: 64 (the default) coalesces concurrent buyers into one script call; 1 decides each alone.</param>
    /// <param name="buckets">The SKU's stock buckets: 1 is a SKU that is not split.</param>
    public static async Task<EngineHotSku> StartAsync(int maxBatch, int buckets = 1, CancellationToken cancellationToken = default)
    {
        // The content root is where the host watches for configuration files that change. dotnet run starts the bench in
        // the repository's root, where BenchmarkDotNet writes its artifacts and the dev engine its logs: watched from
        // there, every write woke a watcher thread beside the benchmark. The bench's settings are all in memory.
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Redis"] = LocalServices.Redis,
            ["Redis:KeyPrefix"] = LocalServices.RedisKeyPrefix,
            ["ConnectionStrings:Catalog"] = LocalServices.MariaDb("flashsale_bench_catalog"),
            // DEVELOPMENT ONLY: the benchmark mints no tokens, but the engine validates that a key is configured.
            ["Auth:SigningKey"] = "bench-dev-only-signing-key-not-a-secret-0123456789",
            ["Engine:NodeId"] = "0",
            // The decision alone: no Kafka here, and the durable acknowledgement is measured end to end by loadtests/.
            ["Reservations:Acknowledge"] = "Decided",
            ["Reservations:MaxBatch"] = maxBatch.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.AddCampaigns();
        builder.AddReservations();

        var host = builder.Build();
        // Without the prefix the dev engine's relay would drain the bench SKU, and its buyers would share the bench's ids.
        var prefix = host.Services.GetRequiredService<IOptions<RedisOptions>>().Value.KeyPrefix;
        if (prefix != LocalServices.RedisKeyPrefix)
        {
            throw new InvalidOperationException($"The engine's Redis key prefix is '{prefix}', not the bench's '{LocalServices.RedisKeyPrefix}'.");
        }
        // The schema first: the identity watch reads the trusted Redis from the catalog as the host starts.
        await host.Services.MigrateCatalogAsync(cancellationToken);
        await host.StartAsync(cancellationToken);

        var now = DateTimeOffset.UtcNow;
        var campaignId = "bench-" + RandomNumberGenerator.GetHexString(12, lowercase: true);
        var skuId = await SpreadSkuAsync(host.Services.GetRequiredService<IConnectionMultiplexer>(), campaignId, buckets);
        var campaign = CampaignValidator.Normalize(new CampaignDefinition(
            campaignId,
            now.AddMinutes(-1),
            now.AddDays(1),
            PaymentWindowSeconds: 600,
            [new CampaignSku(skuId, Price: 199.00m, Stock, PerUserLimit: 1, Buckets: buckets)]));
        var errors = CampaignValidator.Validate(campaign);
        if (errors.Count > 0)
        {
            throw new InvalidOperationException("Bench campaign is invalid: " + string.Join("; ", errors.SelectMany(e => e.Value)));
        }

        var created = await host.Services.GetRequiredService<CampaignStore>().CreateAsync(campaign, cancellationToken);
        if (created != CampaignCreateOutcome.Created)
        {
            throw new InvalidOperationException($"Bench campaign {campaign.CampaignId} was not created: {created}.");
        }
        var warmed = await host.Services.GetRequiredService<StockService>().WarmAsync(campaign, force: false, cancellationToken: cancellationToken);
        if (warmed is not [{ Outcome: WarmupOutcome.Loaded }])
        {
            throw new InvalidOperationException($"Bench campaign {campaign.CampaignId} was not loaded into Redis.");
        }
        return new EngineHotSku(host, campaign);
    }

    public async Task ReserveAsync()
    {
        var userId = Interlocked.Increment(ref _lastUserId);
        var result = await _reservations.ReserveAsync(new ReservationRequest(_campaign.CampaignId, SkuId, userId, IdempotencyKey, 1));
        // A refusal is cheaper than a reservation: one would make the engine look faster than it is.
        if (result.Status != ReservationStatus.Created)
        {
            throw new InvalidOperationException($"Reservation for buyer {userId} was {result.Status}, not Created.");
        }
    }

    /// <summary>Throws unless Redis holds exactly the stock that the reservations made took.</summary>
    public async Task VerifyAsync()
    {
        var stock = await _host.Services.GetRequiredService<StockService>().ReadAsync(_campaign.CampaignId, SkuId)
            ?? throw new InvalidOperationException($"Redis lost the bench SKU {_campaign.CampaignId}:{SkuId}.");
        if (Reserved == 0 || stock.Available != Stock - Reserved)
        {
            throw new InvalidOperationException(
                $"Redis holds {stock.Available} units after {Reserved} reservations of {Stock}; expected {Stock - Reserved}.");
        }
    }

    /// <summary>
    /// The first SKU id from 1 on whose buckets fall on as many different masters as can be (all three of the local
    /// cluster for three buckets); 1 on a single server or for a SKU that is not split.
    /// </summary>
    private static async Task<long> SpreadSkuAsync(IConnectionMultiplexer redis, string campaignId, int buckets)
    {
        var primaries = (await RedisTopology.ReadAsync(redis)).Primaries;
        var wanted = Math.Min(buckets, primaries.Count);
        for (var sku = 1L; ; sku++)
        {
            var masters = new SkuKeys(campaignId, sku).AllBuckets(buckets)
                .Select(b => primaries.First(p => p.Serves(HashSlot.Of(b.Tag))).EndPoint).Distinct().Count();
            if (masters == wanted)
            {
                return sku;
            }
        }
    }

    /// <summary>
    /// Removes what the run wrote to Redis (the SKU's keys and its <see cref="RedisKeyspace.LiveSkus"/> entry) and the
    /// campaign, so that runs do not pile up in Redis and the catalog.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        var services = _host.Services;
        var db = services.GetRequiredService<IDatabase>();
        foreach (var bucket in new SkuKeys(_campaign.CampaignId, SkuId).AllBuckets(_campaign.Skus[0].Buckets))
        {
            // One DEL per bucket: on a cluster each is a slot of its own.
            await db.KeyDeleteAsync(await LedgerLayout.AllKeysAsync(db, bucket));
            await db.SetRemoveAsync(RedisKeyspace.LiveSkus, bucket.Member);
        }
        await using (var connection = await services.GetRequiredService<CatalogDataSource>().OpenConnectionAsync(CancellationToken.None))
        {
            await connection.ExecuteAsync(
                "DELETE FROM campaign_skus WHERE campaign_id = @CampaignId; DELETE FROM campaigns WHERE campaign_id = @CampaignId",
                new { _campaign.CampaignId });
        }
        await _host.StopAsync();
        // The catalog pool is only IAsyncDisposable: a synchronous Dispose of the container would throw.
        await ((IAsyncDisposable)_host).DisposeAsync();
    }
}
