using System.Diagnostics;
using System.Globalization;
using StackExchange.Redis;

namespace FlashSale.Tests.Infrastructure;

/// <summary>
/// A redis-server of a test's own, on a free port, persisting only RDB snapshots taken when the test asks (SAVE), so
/// that killing it and starting it again brings back the last snapshot and forgets everything after it. Optionally a
/// replica of another one, or a Redis Cluster node (see <see cref="PrivateCluster"/>): its nodes.conf lives beside its
/// snapshot, so a node killed and started again rejoins its cluster as itself.
/// </summary>
public sealed class PrivateRedis : IAsyncDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("flashsale-redis-").FullName;
    private readonly string? _replicaOf;
    private readonly bool _clusterNode;
    private Process? _server;

    public PrivateRedis(PrivateRedis? replicaOf = null, bool clusterNode = false)
    {
        _replicaOf = replicaOf?.Endpoint;
        _clusterNode = clusterNode;
    }

    public int Port { get; } = PipelineFixture.FreePort();

    /// <summary>The cluster bus port of a cluster node (a free port of its own, not Port + 10000).</summary>
    public int BusPort { get; } = PipelineFixture.FreePort();

    public string Endpoint => $"127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}";

    public async Task StartAsync()
    {
        var info = new ProcessStartInfo("redis-server") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        string[] arguments =
        [
            "--port", Port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", _directory,
            "--dbfilename", "dump.rdb", "--appendonly", "no", "--save", "", "--daemonize", "no",
            .. _replicaOf is { } master ? (string[])["--replicaof", master.Split(':')[0], master.Split(':')[1]] : [],
            .. _clusterNode
                ? (string[])["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-port", BusPort.ToString(CultureInfo.InvariantCulture)]
                : [],
        ];
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        _server?.Dispose();
        _server = Process.Start(info)!;
        _server.OutputDataReceived += (_, _) => { };
        _server.ErrorDataReceived += (_, _) => { };
        _server.BeginOutputReadLine();
        _server.BeginErrorReadLine();

        // One connection that keeps trying, asked as soon as the server answers: a test that reads what a restarted server
        // came back with must read it before the engine's recovery (a second or two later) changes it.
        await using var probe = await ConnectionMultiplexer.ConnectAsync($"{Endpoint},abortConnect=false,connectTimeout=500");
        await Eventually.HoldsAsync(async () =>
        {
            try
            {
                await probe.GetServer(Endpoint).PingAsync();
                return true;
            }
            catch (RedisException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(20));
    }

    /// <summary>kill -9: whatever was not in the last snapshot is gone.</summary>
    public async Task KillAsync()
    {
        if (_server is { HasExited: false } server)
        {
            server.Kill();
            await server.WaitForExitAsync();
        }
    }

    /// <summary>One field of INFO (any section), read on a connection of its own.</summary>
    public async Task<string> InfoAsync(string section, string field)
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(Alone(Endpoint));
        var info = await connection.GetServer(Endpoint).InfoRawAsync(section);
        return info!.Split('\n').Select(l => l.Trim()).First(l => l.StartsWith(field + ":", StringComparison.Ordinal))[(field.Length + 1)..];
    }

    /// <summary>One command to this server, on a connection of its own (to a cluster node too: sent there, never redirected).</summary>
    public async Task<RedisResult> ExecuteAsync(string command, params object[] arguments)
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(Alone(Endpoint));
        return await connection.GetServer(Endpoint).ExecuteAsync(command, arguments);
    }

    /// <summary>Admin rights, and a connection that comes up even while the server (or, for a cluster node, its peers) is not up yet.</summary>
    private static string Alone(string endpoint) => $"{endpoint},allowAdmin=true,abortConnect=false,connectTimeout=1000";

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _server?.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
