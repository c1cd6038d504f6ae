using Dapper;
using FlashSale.Engine.Storage;

namespace FlashSale.Engine.Persistence;

/// <summary>
/// Moves the per-pool coupon counter deltas the shards recorded (<c>coupon_counter_outbox</c>: coupons locked by persisted
/// orders, redeemed by payments, released by cancels) into the catalog's <c>campaign_coupon_counters</c>, exactly once, as
/// <see cref="CounterApplier"/> does for SKUs (the catalog records applied ids in <c>coupon_counter_applied</c>). Run on the
/// same beat by <see cref="CounterLoop"/>.
/// </summary>
public sealed class CouponCounterApplier(ShardDataSources shards, CatalogDataSource catalog)
{
    private const int RowsPerRound = 1_000;

    public async Task<int> ApplyAsync(CancellationToken cancellationToken)
    {
        var applied = 0;
        for (var shard = 0; shard < shards.Count; shard++)
        {
            int page;
            do
            {
                page = await ApplyShardAsync(shard, cancellationToken);
                applied += page;
            }
            while (page == RowsPerRound);
        }
        return applied;
    }

    private async Task<int> ApplyShardAsync(int shard, CancellationToken cancellationToken)
    {
        await using var source = await shards.OpenAsync(shard, cancellationToken);
        var deltas = (await source.QueryAsync<Delta>(new CommandDefinition("""
            SELECT id AS Id, campaign_id AS CampaignId, coupon_id AS CouponId, locked AS Locked, redeemed AS Redeemed, released AS Released
            FROM coupon_counter_outbox ORDER BY id LIMIT @RowsPerRound
            """, new { RowsPerRound }, cancellationToken: cancellationToken))).ToList();
        if (deltas.Count == 0)
        {
            return 0;
        }

        await using (var target = await catalog.OpenConnectionAsync(cancellationToken))
        {
            var lockName = $"flashsale.coupon-counters.{shard}";
            await target.ExecuteScalarAsync<int>(new CommandDefinition("SELECT GET_LOCK(@lockName, 30)", new { lockName }, cancellationToken: cancellationToken));
            try
            {
                await using var transaction = await target.BeginTransactionAsync(cancellationToken);
                var done = (await target.QueryAsync<long>(new CommandDefinition(
                    "SELECT outbox_id FROM coupon_counter_applied WHERE shard = @shard AND outbox_id IN @ids",
                    new { shard, ids = deltas.Select(d => d.Id) }, transaction, cancellationToken: cancellationToken))).ToHashSet();
                var fresh = deltas.Where(d => !done.Contains(d.Id)).ToList();
                if (fresh.Count > 0)
                {
                    await target.ExecuteAsync(new CommandDefinition(
                        "INSERT INTO coupon_counter_applied (shard, outbox_id) VALUES (@shard, @Id)",
                        fresh.Select(d => new { shard, d.Id }), transaction, cancellationToken: cancellationToken));
                    var perPool = fresh.GroupBy(d => (d.CampaignId, d.CouponId)).Select(g => new
                    {
                        g.Key.CampaignId,
                        g.Key.CouponId,
                        Locked = g.Sum(d => d.Locked),
                        Redeemed = g.Sum(d => d.Redeemed),
                        Released = g.Sum(d => d.Released),
                    });
                    await target.ExecuteAsync(new CommandDefinition("""
                        INSERT INTO campaign_coupon_counters (campaign_id, coupon_id, locked, redeemed, released, updated_at)
                        VALUES (@CampaignId, @CouponId, @Locked, @Redeemed, @Released, UTC_TIMESTAMP(3))
                        ON DUPLICATE KEY UPDATE locked = locked + VALUES(locked), redeemed = redeemed + VALUES(redeemed),
                            released = released + VALUES(released), updated_at = VALUES(updated_at)
                        """, perPool, transaction, cancellationToken: cancellationToken));
                }
                await transaction.CommitAsync(cancellationToken);
            }
            finally
            {
                await target.ExecuteScalarAsync<int>(new CommandDefinition("SELECT RELEASE_LOCK(@lockName)", new { lockName }, cancellationToken: CancellationToken.None));
            }
        }

        await source.ExecuteAsync(new CommandDefinition(
            "DELETE FROM coupon_counter_outbox WHERE id IN @ids", new { ids = deltas.Select(d => d.Id) }, cancellationToken: cancellationToken));
        return deltas.Count;
    }

    private sealed record Delta(long Id, string CampaignId, string CouponId, int Locked, int Redeemed, int Released);
}
