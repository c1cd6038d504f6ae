using MySqlConnector;

namespace FlashSale.Engine.Storage;

/// <summary>The catalog database's connection pool, named so that shard pools cannot be mixed up with it.</summary>
public sealed class CatalogDataSource(string connectionString) : IAsyncDisposable
{
    private readonly MySqlDataSource _dataSource = new(connectionString);

    public string ConnectionString { get; } = connectionString;

    public ValueTask<MySqlConnection> OpenConnectionAsync(CancellationToken cancellationToken)
        => _dataSource.OpenConnectionAsync(cancellationToken);

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
