using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Dapper;
using Microsoft.Extensions.Logging;
using MySqlConnector;

namespace FlashSale.Engine.Storage;

/// <summary>
/// Applies the versioned <c>.sql</c> files embedded under <c>Storage/Schema/&lt;kind&gt;/</c>, in order,
/// each once, recording them in <c>schema_migrations</c>. Several hosts may start at once: a
/// named lock makes them take turns. An applied file that was edited afterwards stops start-up.
/// </summary>
public static partial class SchemaMigrator
{
    public const string Catalog = "catalog";

    private const string ResourcePrefix = "FlashSale.Engine.Storage.Schema.";

    public static async Task<int> MigrateAsync(string connectionString, string kind, ILogger logger, CancellationToken cancellationToken = default)
    {
        var builder = new MySqlConnectionStringBuilder(connectionString);
        var database = builder.Database;
        if (string.IsNullOrEmpty(database))
        {
            throw new InvalidOperationException($"The {kind} connection string names no database.");
        }

        builder.Database = "";
        await using (var server = new MySqlConnection(builder.ConnectionString))
        {
            await server.OpenAsync(cancellationToken);
            await server.ExecuteAsync(new CommandDefinition(
                $"CREATE DATABASE IF NOT EXISTS `{database.Replace("`", "``", StringComparison.Ordinal)}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
                cancellationToken: cancellationToken));
        }

        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        var locked = await connection.ExecuteScalarAsync<int?>(new CommandDefinition(
            "SELECT GET_LOCK('flashsale.migrate', 60)", cancellationToken: cancellationToken));
        if (locked != 1)
        {
            throw new InvalidOperationException($"Could not take the migration lock on {database} within 60 s.");
        }

        try
        {
            await connection.ExecuteAsync(new CommandDefinition("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version    INT          NOT NULL PRIMARY KEY,
                    name       VARCHAR(200) NOT NULL,
                    checksum   CHAR(64)     NOT NULL,
                    applied_at DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
                )
                """, cancellationToken: cancellationToken));
            var applied = (await connection.QueryAsync<(int Version, string Checksum)>(new CommandDefinition(
                    "SELECT version, checksum FROM schema_migrations", cancellationToken: cancellationToken)))
                .ToDictionary(r => r.Version, r => r.Checksum);

            var count = 0;
            foreach (var migration in Load(kind))
            {
                if (applied.TryGetValue(migration.Version, out var checksum))
                {
                    if (checksum != migration.Checksum)
                    {
                        throw new InvalidOperationException(
                            $"Migration {migration.Name} was changed after it was applied to {database}; add a new migration instead.");
                    }
                    continue;
                }

                await connection.ExecuteAsync(new CommandDefinition(migration.Sql, cancellationToken: cancellationToken));
                await connection.ExecuteAsync(new CommandDefinition(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES (@Version, @Name, @Checksum)",
                    migration, cancellationToken: cancellationToken));
                LogApplied(logger, migration.Name, database);
                count++;
            }
            return count;
        }
        finally
        {
            await connection.ExecuteAsync(new CommandDefinition("SELECT RELEASE_LOCK('flashsale.migrate')", cancellationToken: CancellationToken.None));
        }
    }

    public static IReadOnlyList<Migration> Load(string kind)
    {
        var assembly = typeof(SchemaMigrator).Assembly;
        var prefix = ResourcePrefix + kind + "/";
        var migrations = new List<Migration>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)))
        {
            var name = resource[prefix.Length..];
            var underscore = name.IndexOf('_', StringComparison.Ordinal);
            if (underscore <= 0 || !int.TryParse(name.AsSpan(0, underscore), out var version))
            {
                throw new InvalidOperationException($"Migration file {name} must be named NNNN_description.sql.");
            }
            var sql = ReadResource(assembly, resource);
            var checksum = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sql)));
            migrations.Add(new Migration(version, name, sql, checksum));
        }
        return [.. migrations.OrderBy(m => m.Version)];
    }

    private static string ReadResource(Assembly assembly, string resource)
    {
        using var stream = assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"Embedded resource {resource} is missing.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Applied migration {Name} to {Database}")]
    private static partial void LogApplied(ILogger logger, string name, string database);

    public sealed record Migration(int Version, string Name, string Sql, string Checksum);
}
