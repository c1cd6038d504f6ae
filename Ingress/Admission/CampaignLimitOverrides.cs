using System.Collections.Concurrent;
using FlashSale.Engine.Campaigns;
using Microsoft.Extensions.Options;

namespace FlashSale.Ingress.Admission;

/// <summary>
/// The rate limits campaigns define for themselves, in memory: the limiter reads them on every reservation and cannot
/// wait for the catalog. Filled at start and refreshed every <see cref="RateLimitOptions.CampaignRefreshSeconds"/>
/// (campaigns that have not ended); a campaign created through this Ingress is added at once. Definitions never change,
/// so a refresh only adds campaigns and drops the ended ones.
/// </summary>
public sealed class CampaignLimitOverrides
{
    private readonly ConcurrentDictionary<string, CampaignRateLimits> _byCampaign = new(StringComparer.Ordinal);

    public CampaignRateLimits? Find(string? campaignId)
        => campaignId is not null && _byCampaign.TryGetValue(campaignId, out var limits) ? limits : null;

    public void Set(string campaignId, CampaignRateLimits limits) => _byCampaign[campaignId] = limits;

    /// <summary>Replaces the whole set with what the catalog holds now.</summary>
    public void Replace(IReadOnlyDictionary<string, CampaignRateLimits> current)
    {
        foreach (var (campaignId, limits) in current)
        {
            _byCampaign[campaignId] = limits;
        }
        foreach (var campaignId in _byCampaign.Keys)
        {
            if (!current.ContainsKey(campaignId))
            {
                _byCampaign.TryRemove(campaignId, out _);
            }
        }
    }
}

/// <summary>Reads the campaigns' own limits into <see cref="CampaignLimitOverrides"/>: once before the Ingress serves, then periodically.</summary>
internal sealed partial class CampaignLimitRefresher(
    CampaignStore campaigns,
    CampaignLimitOverrides overrides,
    IOptions<RateLimitOptions> options,
    TimeProvider time,
    ILogger<CampaignLimitRefresher> logger) : BackgroundService
{
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await RefreshAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromSeconds(options.Value.CampaignRefreshSeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            await RefreshAsync(stoppingToken);
        }
    }

    private async Task RefreshAsync(CancellationToken cancellationToken)
    {
        try
        {
            overrides.Replace(await campaigns.ListRateLimitsAsync(time.GetUtcNow(), cancellationToken));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The limits read last stay in force; a campaign made meanwhile elsewhere has the deployment's until the next read.
            LogRefreshFailed(logger, ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not read the campaigns' rate limits from the catalog; the last ones read stay in force")]
    private static partial void LogRefreshFailed(ILogger logger, Exception exception);
}
