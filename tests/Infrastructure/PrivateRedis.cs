using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
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

        // Asked as soon as the server answers: a test that reads what a restarted server came back with must read it before
        // the engine's recovery (a second or two later) changes it.
        await Eventually.HoldsAsync(async () =>
        {
            try
            {
                return await ExecuteAsync("PING") == "PONG";
            }
            catch (Exception e) when (e is IOException or SocketException or RedisServerException)
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

    /// <summary>One field of INFO (any section).</summary>
    public async Task<string> InfoAsync(string section, string field)
    {
        var info = await ExecuteAsync("INFO", section);
        return info.Split('\n').Select(l => l.Trim()).First(l => l.StartsWith(field + ":", StringComparison.Ordinal))[(field.Length + 1)..];
    }

    /// <summary>
    /// One command to this server and its reply (a status, a bulk string or an integer, as text), on a socket of its own:
    /// to a cluster node too, sent there and never redirected. Plain RESP rather than a ConnectionMultiplexer, which would
    /// discover the cluster around the node, and whose disposal can race that discovery while the cluster is forming.
    /// </summary>
    public async Task<string> ExecuteAsync(string command, params string[] arguments)
    {
        using var client = new TcpClient { NoDelay = true };
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await client.ConnectAsync(IPAddress.Loopback, Port, timeout.Token);
        var stream = client.GetStream();
        string[] parts = [command, .. arguments];
        var request = new StringBuilder().Append(CultureInfo.InvariantCulture, $"*{parts.Length}\r\n");
        foreach (var part in parts)
        {
            request.Append(CultureInfo.InvariantCulture, $"${Encoding.UTF8.GetByteCount(part)}\r\n{part}\r\n");
        }
        await stream.WriteAsync(Encoding.UTF8.GetBytes(request.ToString()), timeout.Token);
        var reader = new RespReader(stream);
        var header = await reader.LineAsync(timeout.Token);
        return header[0] switch
        {
            '+' or ':' => header[1..],
            '-' => throw new RedisServerException(header[1..]),
            '$' => await reader.BulkAsync(int.Parse(header.AsSpan(1), CultureInfo.InvariantCulture), timeout.Token),
            _ => throw new NotSupportedException($"{command}: a reply of type '{header[0]}' is not read here"),
        };
    }

    /// <summary>Reads the lines and bulk strings of one RESP reply.</summary>
    private sealed class RespReader(Stream stream)
    {
        private readonly List<byte> _buffer = [];
        private readonly byte[] _chunk = new byte[16 * 1024];

        public async Task<string> LineAsync(CancellationToken cancel)
        {
            int end;
            while ((end = IndexOfLineEnd()) < 0)
            {
                await FillAsync(cancel);
            }
            return Take(end, 2);
        }

        public async Task<string> BulkAsync(int length, CancellationToken cancel)
        {
            if (length < 0)
            {
                return "";
            }
            while (_buffer.Count < length + 2)
            {
                await FillAsync(cancel);
            }
            return Take(length, 2);
        }

        private int IndexOfLineEnd()
        {
            for (var i = 0; i + 1 < _buffer.Count; i++)
            {
                if (_buffer[i] == '\r' && _buffer[i + 1] == '\n')
                {
                    return i;
                }
            }
            return -1;
        }

        private async Task FillAsync(CancellationToken cancel)
        {
            var read = await stream.ReadAsync(_chunk, cancel);
            if (read == 0)
            {
                throw new IOException("The server closed the connection before its reply was complete.");
            }
            _buffer.AddRange(_chunk.AsSpan(0, read));
        }

        private string Take(int length, int skip)
        {
            var text = Encoding.UTF8.GetString([.. _buffer.GetRange(0, length)]);
            _buffer.RemoveRange(0, length + skip);
            return text;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _server?.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
