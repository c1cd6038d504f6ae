using Dapper;
using FlashSale.Engine.Storage;
using MySqlConnector;

namespace FlashSale.Engine.Campaigns;

public enum CampaignCreateOutcome
{
    Created,
    AlreadyExists,
    Conflict,
}

/// <summary>A campaign of the list: its window and how many SKUs it has.</summary>
public sealed record CampaignSummary(string CampaignId, DateTimeOffset StartsAt, DateTimeOffset EndsAt, int PaymentWindowSeconds, int SkuCount);

/// <summary>Campaign definitions in the catalog database. Definitions never change once created.</summary>
public sealed class CampaignStore(CatalogDataSource catalog)
{
    /// <summary>
    /// Creates the campaign, or recognises the same definition sent again. A different
    /// definition under an existing id is a conflict: stock already sold cannot be redefined.
    /// </summary>
    public async Task<CampaignCreateOutcome> CreateAsync(CampaignDefinition definition, CancellationToken cancellationToken)
    {
        var fingerprint = definition.Fingerprint();
        await using var connection = await catalog.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        // INSERT IGNORE waits on a concurrent uncommitted insert of the same id and then reports 0 rows,
        // so two identical requests racing each other both end in a consistent answer.
        var inserted = await connection.ExecuteAsync(new CommandDefinition("""
            INSERT IGNORE INTO campaigns (campaign_id, starts_at, ends_at, payment_window_seconds, fingerprint, rate_limits,
                                          admission_mode, admit_factor, admission_token_seconds)
            VALUES (@CampaignId, @StartsAt, @EndsAt, @PaymentWindowSeconds, @Fingerprint, @RateLimits,
                    @AdmissionMode, @AdmitFactor, @TokenSeconds)
            """,
            new
            {
                definition.CampaignId,
                StartsAt = definition.StartsAt.UtcDateTime,
                EndsAt = definition.EndsAt.UtcDateTime,
                definition.PaymentWindowSeconds,
                Fingerprint = fingerprint,
                RateLimits = definition.RateLimits?.ToJson(),
                AdmissionMode = definition.EffectiveAdmission.Mode,
                definition.EffectiveAdmission.AdmitFactor,
                definition.EffectiveAdmission.TokenSeconds,
            },
            transaction, cancellationToken: cancellationToken));

        if (inserted == 0)
        {
            var existing = await connection.ExecuteScalarAsync<string>(new CommandDefinition(
                "SELECT fingerprint FROM campaigns WHERE campaign_id = @CampaignId",
                new { definition.CampaignId }, transaction, cancellationToken: cancellationToken));
            await transaction.RollbackAsync(cancellationToken);
            return existing == fingerprint ? CampaignCreateOutcome.AlreadyExists : CampaignCreateOutcome.Conflict;
        }

        await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO campaign_skus (campaign_id, sku_id, price, total_stock, per_user_limit, buckets)
            VALUES (@CampaignId, @SkuId, @Price, @Stock, @PerUserLimit, @Buckets)
            """,
            definition.Skus.Select(s => new { definition.CampaignId, s.SkuId, s.Price, s.Stock, s.PerUserLimit, s.Buckets }),
            transaction, cancellationToken: cancellationToken));
        if (definition.CouponPools.Count > 0)
        {
            await connection.ExecuteAsync(new CommandDefinition("""
                INSERT INTO campaign_coupons (campaign_id, coupon_id, discount, min_spend, quantity, per_user_limit)
                VALUES (@CampaignId, @CouponId, @Discount, @MinSpend, @Quantity, @PerUserLimit)
                """,
                definition.CouponPools.Select(c => new { definition.CampaignId, c.CouponId, c.Discount, c.MinSpend, c.Quantity, c.PerUserLimit }),
                transaction, cancellationToken: cancellationToken));
        }
        await transaction.CommitAsync(cancellationToken);
        return CampaignCreateOutcome.Created;
    }

    public async Task<CampaignDefinition?> GetAsync(string campaignId, CancellationToken cancellationToken)
    {
        await using var connection = await catalog.OpenConnectionAsync(cancellationToken);
        var campaign = await connection.QuerySingleOrDefaultAsync<CampaignRow>(new CommandDefinition("""
            SELECT campaign_id AS CampaignId, starts_at AS StartsAt, ends_at AS EndsAt,
                   payment_window_seconds AS PaymentWindowSeconds, rate_limits AS RateLimits, admission_mode AS AdmissionMode,
                   admit_factor AS AdmitFactor, admission_token_seconds AS TokenSeconds
            FROM campaigns WHERE campaign_id = @campaignId
            """, new { campaignId }, cancellationToken: cancellationToken));
        if (campaign is null)
        {
            return null;
        }

        // The SKUs and the coupon pools in one round trip.
        await using var lists = await connection.QueryMultipleAsync(new CommandDefinition("""
            SELECT sku_id AS SkuId, price AS Price, total_stock AS Stock, per_user_limit AS PerUserLimit, buckets AS Buckets
            FROM campaign_skus WHERE campaign_id = @campaignId ORDER BY sku_id;
            SELECT coupon_id AS CouponId, discount AS Discount, min_spend AS MinSpend, quantity AS Quantity, per_user_limit AS PerUserLimit
            FROM campaign_coupons WHERE campaign_id = @campaignId ORDER BY coupon_id;
            """, new { campaignId }, cancellationToken: cancellationToken));
        var skus = await lists.ReadAsync<CampaignSku>();
        var coupons = (await lists.ReadAsync<CampaignCoupon>()).ToList();
        return new CampaignDefinition(
            campaign.CampaignId,
            new DateTimeOffset(DateTime.SpecifyKind(campaign.StartsAt, DateTimeKind.Utc)),
            new DateTimeOffset(DateTime.SpecifyKind(campaign.EndsAt, DateTimeKind.Utc)),
            campaign.PaymentWindowSeconds,
            [.. skus],
            CampaignRateLimits.FromJson(campaign.RateLimits),
            campaign.AdmissionMode == AdmissionModes.Queue ? new AdmissionSettings(AdmissionModes.Queue, campaign.AdmitFactor, campaign.TokenSeconds) : null,
            coupons.Count > 0 ? coupons : null);
    }

    /// <summary>The rate limits of the campaigns that have their own and end after <paramref name="endedAfter"/>.</summary>
    public async Task<IReadOnlyDictionary<string, CampaignRateLimits>> ListRateLimitsAsync(DateTimeOffset endedAfter, CancellationToken cancellationToken)
    {
        await using var connection = await catalog.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<(string CampaignId, string RateLimits)>(new CommandDefinition(
            "SELECT campaign_id, rate_limits FROM campaigns WHERE rate_limits IS NOT NULL AND ends_at >= @endedAfter",
            new { endedAfter = endedAfter.UtcDateTime }, cancellationToken: cancellationToken));
        return rows.ToDictionary(r => r.CampaignId, r => CampaignRateLimits.FromJson(r.RateLimits)!, StringComparer.Ordinal);
    }

    /// <summary>Ids of the campaigns that end after <paramref name="endedAfter"/> (running, scheduled, or ended since then).</summary>
    public async Task<IReadOnlyList<string>> ListEndingAfterAsync(DateTimeOffset endedAfter, CancellationToken cancellationToken)
    {
        await using var connection = await catalog.OpenConnectionAsync(cancellationToken);
        return [.. await connection.QueryAsync<string>(new CommandDefinition(
            "SELECT campaign_id FROM campaigns WHERE ends_at >= @endedAfter ORDER BY starts_at",
            new { endedAfter = endedAfter.UtcDateTime }, cancellationToken: cancellationToken))];
    }

    /// <summary>The campaigns, the latest to start first, with how many SKUs each has.</summary>
    public async Task<IReadOnlyList<CampaignSummary>> ListAsync(int limit, CancellationToken cancellationToken)
    {
        await using var connection = await catalog.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<SummaryRow>(new CommandDefinition("""
            SELECT c.campaign_id AS CampaignId, c.starts_at AS StartsAt, c.ends_at AS EndsAt,
                   c.payment_window_seconds AS PaymentWindowSeconds,
                   (SELECT COUNT(*) FROM campaign_skus s WHERE s.campaign_id = c.campaign_id) AS SkuCount
            FROM campaigns c ORDER BY c.starts_at DESC, c.campaign_id LIMIT @limit
            """, new { limit }, cancellationToken: cancellationToken));
        return [.. rows.Select(r => new CampaignSummary(r.CampaignId, Utc(r.StartsAt), Utc(r.EndsAt), r.PaymentWindowSeconds, (int)r.SkuCount))];
    }

    private static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));

    private sealed record SummaryRow(string CampaignId, DateTime StartsAt, DateTime EndsAt, int PaymentWindowSeconds, long SkuCount);

    private sealed record CampaignRow(
        string CampaignId, DateTime StartsAt, DateTime EndsAt, int PaymentWindowSeconds, string? RateLimits,
        string AdmissionMode, decimal AdmitFactor, int TokenSeconds);
}
