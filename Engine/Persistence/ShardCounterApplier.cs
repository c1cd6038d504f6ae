using Dapper;
using FlashSale.Engine.Storage;

namespace FlashSale.Engine.Persistence;

/// <summary>
/// The tables one kind of counter moves through: the shards' outbox of per-batch deltas, the catalog's record of the
/// deltas applied (shard, outbox id), and the catalog's running counters, keyed by campaign and <see cref="KeyColumn"/>.
/// <see cref="Counts"/> are the three count columns, named alike in the outbox and the counters.
/// </summary>
public sealed record CounterTables(string Outbox, string Applied, string Counters, string KeyColumn, (string A, string B, string C) Counts, string LockPrefix);

/// <summary>
/// Moves the per-batch counter deltas that shards recorded into the catalog's counters, exactly once: the catalog
/// transaction that adds a delta also records its (shard, id) in the applied table, and a delta found there is skipped.
/// A crash between the catalog commit and the shard clean-up therefore only repeats the clean-up. Run on an interval by
/// <see cref="CounterLoop"/>, so a burst of batches costs one application. <typeparamref name="TKey"/> is the type of the
/// counters' key column (a SKU id, a coupon id).
/// </summary>
public abstract class ShardCounterApplier<TKey>(ShardDataSources shards, CatalogDataSource catalog, CounterTables tables)
    where TKey : notnull
{
    private const int RowsPerRound = 1_000;

    private readonly string _select = $"""
        SELECT id AS Id, campaign_id AS CampaignId, {tables.KeyColumn} AS `Key`,
               {tables.Counts.A} AS A, {tables.Counts.B} AS B, {tables.Counts.C} AS C
        FROM {tables.Outbox} ORDER BY id LIMIT @RowsPerRound
        """;

    private readonly string _upsert = $"""
        INSERT INTO {tables.Counters} (campaign_id, {tables.KeyColumn}, {tables.Counts.A}, {tables.Counts.B}, {tables.Counts.C}, updated_at)
        VALUES (@CampaignId, @Key, @A, @B, @C, UTC_TIMESTAMP(3))
        ON DUPLICATE KEY UPDATE {tables.Counts.A} = {tables.Counts.A} + VALUES({tables.Counts.A}),
            {tables.Counts.B} = {tables.Counts.B} + VALUES({tables.Counts.B}),
            {tables.Counts.C} = {tables.Counts.C} + VALUES({tables.Counts.C}), updated_at = VALUES(updated_at)
        """;

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
        var deltas = (await source.QueryAsync<Delta>(new CommandDefinition(_select, new { RowsPerRound }, cancellationToken: cancellationToken))).ToList();
        if (deltas.Count == 0)
        {
            return 0;
        }

        await using (var target = await catalog.OpenConnectionAsync(cancellationToken))
        {
            // Two persisters may apply the same shard at once; the lock makes the second one see the first's rows.
            var lockName = $"{tables.LockPrefix}.{shard}";
            await target.ExecuteScalarAsync<int>(new CommandDefinition("SELECT GET_LOCK(@lockName, 30)", new { lockName }, cancellationToken: cancellationToken));
            try
            {
                await using var transaction = await target.BeginTransactionAsync(cancellationToken);
                var done = (await target.QueryAsync<long>(new CommandDefinition(
                    $"SELECT outbox_id FROM {tables.Applied} WHERE shard = @shard AND outbox_id IN @ids",
                    new { shard, ids = deltas.Select(d => d.Id) }, transaction, cancellationToken: cancellationToken))).ToHashSet();
                var fresh = deltas.Where(d => !done.Contains(d.Id)).ToList();
                if (fresh.Count > 0)
                {
                    await target.ExecuteAsync(new CommandDefinition(
                        $"INSERT INTO {tables.Applied} (shard, outbox_id) VALUES (@shard, @Id)",
                        fresh.Select(d => new { shard, d.Id }), transaction, cancellationToken: cancellationToken));
                    var perKey = fresh.GroupBy(d => (d.CampaignId, d.Key)).Select(g => new
                    {
                        g.Key.CampaignId,
                        g.Key.Key,
                        A = g.Sum(d => d.A),
                        B = g.Sum(d => d.B),
                        C = g.Sum(d => d.C),
                    });
                    await target.ExecuteAsync(new CommandDefinition(_upsert, perKey, transaction, cancellationToken: cancellationToken));
                }
                await transaction.CommitAsync(cancellationToken);
            }
            finally
            {
                await target.ExecuteScalarAsync<int>(new CommandDefinition("SELECT RELEASE_LOCK(@lockName)", new { lockName }, cancellationToken: CancellationToken.None));
            }
        }

        await source.ExecuteAsync(new CommandDefinition(
            $"DELETE FROM {tables.Outbox} WHERE id IN @ids", new { ids = deltas.Select(d => d.Id) }, cancellationToken: cancellationToken));
        return deltas.Count;
    }

    private sealed record Delta(long Id, string CampaignId, TKey Key, int A, int B, int C);
}
