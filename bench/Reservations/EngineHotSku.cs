using System.Security.Cryptography;
using Dapper;
using FlashSale.Bench.Infrastructure;
using FlashSale.Contracts;
using FlashSale.Engine;
using FlashSale.Engine.Campaigns;
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
/// <see cref="LocalServices.RedisKeyPrefix"/>, away from the dev engine's; on a Redis Cluster as on one server.
/// </summary>
public sealed class EngineHotSku : IAsyncDisposable
{
    public const long SkuId = 1;
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

    public long Reserved => Volatile.Read(ref _lastUserId);

    /// <param name="maxBatch">Reservations:MaxBatch: 64 (the default) coalesces concurrent buyers into one script call; 1 decides each alone.</param>
    public static async Task<EngineHotSku> StartAsync(int maxBatch, CancellationToken cancellationToken = default)
    {
        var builder = Host.CreateApplicationBuilder();
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
        var campaign = CampaignValidator.Normalize(new CampaignDefinition(
            "bench-" + RandomNumberGenerator.GetHexString(12, lowercase: true),
            now.AddMinutes(-1),
            now.AddDays(1),
            PaymentWindowSeconds: 600,
            [new CampaignSku(SkuId, Price: 199.00m, Stock, PerUserLimit: 1)]));
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
    /// Removes what the run wrote to Redis (the SKU's keys and its <see cref="RedisKeyspace.LiveSkus"/> entry) and the
    /// campaign, so that runs do not pile up in Redis and the catalog.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        var services = _host.Services;
        var db = services.GetRequiredService<IDatabase>();
        var sku = new SkuKeys(_campaign.CampaignId, SkuId);
        await db.KeyDeleteAsync(sku.All());
        await db.SetRemoveAsync(RedisKeyspace.LiveSkus, sku.Member);
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
