using Dapper;
using FlashSale.Engine.Storage;

namespace FlashSale.Engine.Fencing;

/// <summary>
/// The identity of the Redis the engine trusts (catalog table <c>trusted_redis</c>): durable, so that a process
/// started after Redis lost data still knows the Redis it finds is not the one that decided.
/// </summary>
public sealed class TrustedRedisStore(CatalogDataSource catalog, TimeProvider time)
{
    private const string Name = "decisions";

    public async Task<RedisIdentity?> GetAsync(CancellationToken cancellationToken)
    {
        await using var connection = await catalog.OpenConnectionAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<(string RunId, string ReplicationId)?>(new CommandDefinition(
            "SELECT run_id, replication_id FROM trusted_redis WHERE name = @Name", new { Name }, cancellationToken: cancellationToken));
        return row is { } found ? new RedisIdentity(found.RunId, found.ReplicationId) : null;
    }

    /// <summary>
    /// A deployment's first Redis is trusted as it is found (there is nothing it could have forgotten); returns the
    /// identity trusted after the call, which is another one when a process recorded one first.
    /// </summary>
    public async Task<RedisIdentity> TrustFirstAsync(RedisIdentity identity, CancellationToken cancellationToken)
    {
        await using (var connection = await catalog.OpenConnectionAsync(cancellationToken))
        {
            await connection.ExecuteAsync(new CommandDefinition("""
                INSERT IGNORE INTO trusted_redis (name, run_id, replication_id, trusted_at) VALUES (@Name, @RunId, @ReplicationId, @At)
                """, new { Name, identity.RunId, identity.ReplicationId, At = time.GetUtcNow().UtcDateTime }, cancellationToken: cancellationToken));
        }
        return await GetAsync(cancellationToken) ?? identity;
    }

    /// <summary>Records <paramref name="identity"/> as trusted: recovery has rebuilt every SKU it had fenced.</summary>
    public async Task TrustAsync(RedisIdentity identity, CancellationToken cancellationToken)
    {
        await using var connection = await catalog.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO trusted_redis (name, run_id, replication_id, trusted_at) VALUES (@Name, @RunId, @ReplicationId, @At)
            ON DUPLICATE KEY UPDATE run_id = VALUES(run_id), replication_id = VALUES(replication_id), trusted_at = VALUES(trusted_at)
            """, new { Name, identity.RunId, identity.ReplicationId, At = time.GetUtcNow().UtcDateTime }, cancellationToken: cancellationToken));
    }
}
