using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace FlashSale.LoadTests.Measurement;

/// <summary>
/// The engine's Redis, asked one thing: <c>INFO memory</c>'s <c>used_memory</c>. A connection per question,
/// in RESP by hand: it is asked once a window, and needs neither a client library's threads nor its reconnects.
/// </summary>
public sealed record RedisEndpoint(string Host, int Port)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);
    private static readonly byte[] InfoMemory = "*2\r\n$4\r\nINFO\r\n$6\r\nmemory\r\n"u8.ToArray();

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Host}:{Port}");

    public static bool TryParse(string text, out RedisEndpoint endpoint)
    {
        endpoint = new RedisEndpoint("", 0);
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            return false;
        }
        endpoint = new RedisEndpoint(text[..colon], port);
        return true;
    }

    /// <summary>Bytes Redis has allocated for its data (<c>used_memory</c>), server-wide: every database and client counts.</summary>
    public async Task<long> UsedMemoryAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        using var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(Host, Port, timeout.Token);
        var stream = client.GetStream();
        await stream.WriteAsync(InfoMemory, timeout.Token);
        var reply = await ReadBulkStringAsync(stream, timeout.Token);
        foreach (var line in reply.Split("\r\n"))
        {
            if (line.StartsWith("used_memory:", StringComparison.Ordinal))
            {
                return long.Parse(line.AsSpan("used_memory:".Length), NumberStyles.None, CultureInfo.InvariantCulture);
            }
        }
        throw new InvalidDataException($"INFO memory from {this} has no used_memory line.");
    }

    /// <summary>A bulk string reply (<c>$len\r\n…\r\n</c>); an error reply (<c>-ERR …</c>, <c>-NOAUTH …</c>) is thrown.</summary>
    private static async Task<string> ReadBulkStringAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var buffer = new List<byte>(4096);
        var chunk = new byte[4096];
        int? headerEnd = null;
        var length = 0;
        while (true)
        {
            var read = await stream.ReadAsync(chunk, cancellationToken);
            if (read == 0)
            {
                throw new IOException("Redis closed the connection before answering INFO memory.");
            }
            buffer.AddRange(chunk.AsSpan(0, read));
            if (headerEnd is null)
            {
                var text = Encoding.ASCII.GetString([.. buffer]);
                var newline = text.IndexOf("\r\n", StringComparison.Ordinal);
                if (newline < 0)
                {
                    continue;
                }
                if (text[0] != '$')
                {
                    throw new InvalidDataException($"Redis answered INFO memory with '{text[..newline]}'.");
                }
                length = int.Parse(text.AsSpan(1, newline - 1), NumberStyles.None, CultureInfo.InvariantCulture);
                headerEnd = newline + 2;
            }
            if (buffer.Count >= headerEnd.Value + length)
            {
                return Encoding.UTF8.GetString([.. buffer.Skip(headerEnd.Value).Take(length)]);
            }
        }
    }
}

/// <summary>
/// The engine's Redis as the harness samples it: one server, or every master of a Redis Cluster, whose
/// <c>used_memory</c> figures are added up (each master holds a share of the SKUs).
/// </summary>
public sealed record RedisServers(IReadOnlyList<RedisEndpoint> Nodes)
{
    public override string ToString() => string.Join(",", Nodes);

    /// <summary><c>host:port</c>, or several separated by commas.</summary>
    public static bool TryParse(string text, out RedisServers servers)
    {
        var nodes = new List<RedisEndpoint>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!RedisEndpoint.TryParse(part, out var node))
            {
                servers = new RedisServers([]);
                return false;
            }
            nodes.Add(node);
        }
        servers = new RedisServers(nodes);
        return nodes.Count > 0;
    }

    /// <summary>The sum of every node's <c>used_memory</c>.</summary>
    public async Task<long> UsedMemoryAsync(CancellationToken cancellationToken)
    {
        var used = await Task.WhenAll(Nodes.Select(n => n.UsedMemoryAsync(cancellationToken)));
        return used.Sum();
    }
}
