using Dapper;
using FlashSale.Engine.Storage;

namespace FlashSale.Engine.Persistence;

/// <summary>
/// Moves the per-batch counter deltas that shards recorded (<c>counter_outbox</c>) into the
/// catalog's <c>campaign_sku_counters</c>, exactly once: the catalog transaction that adds a delta
/// also records its (shard, id) in <c>counter_applied</c>, and a delta found there is skipped.
/// A crash between the catalog commit and the shard clean-up therefore only repeats the clean-up.
/// Run on an interval by <see cref="CounterLoop"/>, so a burst of batches costs one application.
/// </summary>
public sealed class CounterApplier(ShardDataSources shards, CatalogDataSource catalog)
{
    private const int RowsPerRound = 1_000;

    /// <summary>Applies every delta the shards hold now, a page at a time; returns how many were applied.</summary>
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
        var deltas = (await source.QueryAsync<Delta>(new CommandDefinition(
            "SELECT id AS Id, campaign_id AS CampaignId, sku_id AS SkuId, reserved AS Reserved, sold AS Sold, released AS Released FROM counter_outbox ORDER BY id LIMIT @RowsPerRound",
            new { RowsPerRound }, cancellationToken: cancellationToken))).ToList();
        if (deltas.Count == 0)
        {
            return 0;
        }

        await using (var target = await catalog.OpenConnectionAsync(cancellationToken))
        {
            // Two persisters may apply the same shard at once; the lock makes the second one see the first's rows.
            var lockName = $"flashsale.counters.{shard}";
            await target.ExecuteScalarAsync<int>(new CommandDefinition("SELECT GET_LOCK(@lockName, 30)", new { lockName }, cancellationToken: cancellationToken));
            try
            {
                await using var transaction = await target.BeginTransactionAsync(cancellationToken);
                var done = (await target.QueryAsync<long>(new CommandDefinition(
                    "SELECT outbox_id FROM counter_applied WHERE shard = @shard AND outbox_id IN @ids",
                    new { shard, ids = deltas.Select(d => d.Id) }, transaction, cancellationToken: cancellationToken))).ToHashSet();
                var fresh = deltas.Where(d => !done.Contains(d.Id)).ToList();
                if (fresh.Count > 0)
                {
                    await target.ExecuteAsync(new CommandDefinition(
                        "INSERT INTO counter_applied (shard, outbox_id) VALUES (@shard, @Id)",
                        fresh.Select(d => new { shard, d.Id }), transaction, cancellationToken: cancellationToken));
                    var perSku = fresh.GroupBy(d => (d.CampaignId, d.SkuId)).Select(g => new
                    {
                        g.Key.CampaignId,
                        g.Key.SkuId,
                        Reserved = g.Sum(d => d.Reserved),
                        Sold = g.Sum(d => d.Sold),
                        Released = g.Sum(d => d.Released),
                    });
                    await target.ExecuteAsync(new CommandDefinition("""
                        INSERT INTO campaign_sku_counters (campaign_id, sku_id, reserved, sold, released, updated_at)
                        VALUES (@CampaignId, @SkuId, @Reserved, @Sold, @Released, UTC_TIMESTAMP(3))
                        ON DUPLICATE KEY UPDATE reserved = reserved + VALUES(reserved), sold = sold + VALUES(sold),
                            released = released + VALUES(released), updated_at = VALUES(updated_at)
                        """, perSku, transaction, cancellationToken: cancellationToken));
                }
                await transaction.CommitAsync(cancellationToken);
            }
            finally
            {
                await target.ExecuteScalarAsync<int>(new CommandDefinition("SELECT RELEASE_LOCK(@lockName)", new { lockName }, cancellationToken: CancellationToken.None));
            }
        }

        await source.ExecuteAsync(new CommandDefinition(
            "DELETE FROM counter_outbox WHERE id IN @ids", new { ids = deltas.Select(d => d.Id) }, cancellationToken: cancellationToken));
        return deltas.Count;
    }

    private sealed record Delta(long Id, string CampaignId, long SkuId, int Reserved, int Sold, int Released);
}
