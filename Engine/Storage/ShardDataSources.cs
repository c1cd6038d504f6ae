using System.ComponentModel.DataAnnotations;
using MySqlConnector;

namespace FlashSale.Engine.Storage;

public sealed class ShardOptions
{
    public const string Section = "Shards";

    /// <summary>
    /// One connection string per physical shard database. Logical shard <c>L</c> (0-63, in every order
    /// number) lives in physical shard <c>L % count</c>, so the count may only change with a data move.
    /// </summary>
    [MinLength(1)]
    public List<string> ConnectionStrings { get; set; } = [];
}

/// <summary>The connection pools of the order shards, and the routing from orders and buyers to them.</summary>
public sealed class ShardDataSources : IAsyncDisposable
{
    public const string SchemaKind = "shard";

    private readonly MySqlDataSource[] _sources;

    public ShardDataSources(IReadOnlyList<string> connectionStrings)
    {
        if (connectionStrings.Count is 0 or > OrderNumbers.LogicalShards)
        {
            throw new ArgumentException($"Between 1 and {OrderNumbers.LogicalShards} shard connection strings are needed.", nameof(connectionStrings));
        }
        ConnectionStrings = connectionStrings;
        _sources = [.. connectionStrings.Select(cs => new MySqlDataSource(cs))];
    }

    public IReadOnlyList<string> ConnectionStrings { get; }

    public int Count => _sources.Length;

    public int OfOrder(long orderNo) => OrderNumbers.LogicalShardOf(orderNo) % Count;

    public int OfUser(long userId) => OrderNumbers.LogicalShardOfUser(userId) % Count;

    public ValueTask<MySqlConnection> OpenAsync(int shard, CancellationToken cancellationToken)
        => _sources[shard].OpenConnectionAsync(cancellationToken);

    /// <summary>Runs <paramref name="work"/> on every shard side by side, each with a connection of its own; results in shard order.</summary>
    public Task<T[]> OnEveryShardAsync<T>(Func<MySqlConnection, int, Task<T>> work, CancellationToken cancellationToken)
        => Task.WhenAll(Enumerable.Range(0, Count).Select(async shard =>
        {
            await using var connection = await OpenAsync(shard, cancellationToken);
            return await work(connection, shard);
        }));

    /// <summary>The rows a query returns from every shard, concatenated in shard order.</summary>
    public async Task<List<T>> QueryEveryShardAsync<T>(string sql, object? parameters, CancellationToken cancellationToken)
        => [.. (await OnEveryShardAsync((connection, _) => Dapper.SqlMapper.QueryAsync<T>(connection,
            new Dapper.CommandDefinition(sql, parameters, cancellationToken: cancellationToken)), cancellationToken)).SelectMany(rows => rows)];

    public async ValueTask DisposeAsync()
    {
        foreach (var source in _sources)
        {
            await source.DisposeAsync();
        }
    }
}
