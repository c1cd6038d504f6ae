using System.Security.Cryptography;
using Dapper;
using FlashSale.Bench.Infrastructure;
using MySqlConnector;

namespace FlashSale.Bench.Reservations;

/// <summary>
/// The baseline: what a shop does without the engine. One row per SKU holds the stock, and a
/// reservation is a conditional UPDATE that commits on its own (autocommit, durable InnoDB), so the
/// row never goes below zero. In a flash sale every buyer queues on that one row's lock.
/// </summary>
public sealed class MariaDbHotRow : IAsyncDisposable
{
    public const string Database = "flashsale_bench";
    public const long SkuId = 1;
    public const int Stock = 100_000_000;

    private const string ReserveSql =
        "UPDATE bench_stock SET available = available - @q WHERE campaign_id = @c AND sku_id = @s AND available >= @q";

    private readonly MySqlDataSource _dataSource;
    private readonly string _campaignId;
    private long _reserved;

    private MariaDbHotRow(MySqlDataSource dataSource, string campaignId)
    {
        _dataSource = dataSource;
        _campaignId = campaignId;
    }

    public long Reserved => Volatile.Read(ref _reserved);

    /// <param name="connections">Pool size: one connection for each reservation in flight.</param>
    public static async Task<MariaDbHotRow> StartAsync(int connections, CancellationToken cancellationToken = default)
    {
        await LocalServices.RequireDurableMariaDbAsync(cancellationToken);
        await using (var server = new MySqlConnection(LocalServices.MariaDb("")))
        {
            await server.OpenAsync(cancellationToken);
            await server.ExecuteAsync(new CommandDefinition(
                $"CREATE DATABASE IF NOT EXISTS {Database} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin", cancellationToken: cancellationToken));
        }

        var dataSource = new MySqlDataSource(LocalServices.MariaDb(Database, (uint)connections));
        var hotRow = new MariaDbHotRow(dataSource, "bench-" + RandomNumberGenerator.GetHexString(12, lowercase: true));
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        {
            await connection.ExecuteAsync(new CommandDefinition("""
                CREATE TABLE IF NOT EXISTS bench_stock (
                    campaign_id VARCHAR(64) NOT NULL,
                    sku_id      BIGINT      NOT NULL,
                    available   INT         NOT NULL,
                    PRIMARY KEY (campaign_id, sku_id),
                    CONSTRAINT chk_bench_stock_available CHECK (available >= 0)
                ) ENGINE = InnoDB
                """, cancellationToken: cancellationToken));
            await connection.ExecuteAsync(new CommandDefinition("""
                INSERT INTO bench_stock (campaign_id, sku_id, available) VALUES (@c, @s, @available)
                ON DUPLICATE KEY UPDATE available = VALUES(available)
                """, new { c = hotRow._campaignId, s = SkuId, available = Stock }, cancellationToken: cancellationToken));
        }

        // Open the whole pool now, so that no measured reservation pays for a TCP connect and a login.
        var opened = await Task.WhenAll(Enumerable.Range(0, connections).Select(_ => dataSource.OpenConnectionAsync(cancellationToken).AsTask()));
        foreach (var connection in opened)
        {
            await connection.DisposeAsync();
        }
        return hotRow;
    }

    public async Task ReserveAsync()
    {
        int updated;
        await using (var connection = await _dataSource.OpenConnectionAsync())
        {
            updated = await connection.ExecuteAsync(ReserveSql, new { q = 1, c = _campaignId, s = SkuId });
        }
        // No row updated means no stock (or no row): a refusal must not count as a reservation.
        if (updated != 1)
        {
            throw new InvalidOperationException($"The conditional UPDATE changed {updated} rows, not 1.");
        }
        Interlocked.Increment(ref _reserved);
    }

    /// <summary>Throws unless the row holds exactly the stock that the reservations made took.</summary>
    public async Task VerifyAsync()
    {
        await using var connection = await _dataSource.OpenConnectionAsync();
        var available = await connection.ExecuteScalarAsync<long>(
            "SELECT available FROM bench_stock WHERE campaign_id = @c AND sku_id = @s", new { c = _campaignId, s = SkuId });
        if (Reserved == 0 || available != Stock - Reserved)
        {
            throw new InvalidOperationException(
                $"bench_stock holds {available} units after {Reserved} reservations of {Stock}; expected {Stock - Reserved}.");
        }
    }

    /// <summary>Drops the run's row, so that runs do not pile up in the table.</summary>
    public async ValueTask DisposeAsync()
    {
        await using (var connection = await _dataSource.OpenConnectionAsync())
        {
            await connection.ExecuteAsync("DELETE FROM bench_stock WHERE campaign_id = @c", new { c = _campaignId });
        }
        await _dataSource.DisposeAsync();
    }
}
