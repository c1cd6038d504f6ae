using System.Net;
using System.Net.Sockets;

namespace FlashSale.Bench.Persister;

/// <summary>
/// A TCP relay in front of MariaDB that counts round trips: every time a client sends after the server
/// last spoke on that connection (a request that waits for the reply to the one before) counts one.
/// Requests sent together, such as MySqlConnector's pipelined reset or a multi-statement batch, count
/// once, as they cost one wait. Only for counting: the timed benchmarks connect to MariaDB directly.
/// </summary>
public sealed class RoundTripCounter : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _serverPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _relays = [];
    private readonly Task _accepting;
    private long _roundTrips;

    public RoundTripCounter(int serverPort)
    {
        _serverPort = serverPort;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>Where clients connect instead of MariaDB.</summary>
    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public long RoundTrips => Interlocked.Read(ref _roundTrips);

    public void Reset() => Interlocked.Exchange(ref _roundTrips, 0);

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                lock (_relays)
                {
                    _relays.Add(RelayAsync(client));
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        using (client)
        using (var server = new TcpClient())
        {
            await server.ConnectAsync(IPAddress.Loopback, _serverPort, _stop.Token);
            client.NoDelay = server.NoDelay = true;
            // 1 while the client spoke last on this connection, 0 once the server answered.
            var clientSpokeLast = 0;
            var toServer = PumpAsync(client.GetStream(), server.GetStream(), () =>
            {
                if (Interlocked.Exchange(ref clientSpokeLast, 1) == 0)
                {
                    Interlocked.Increment(ref _roundTrips);
                }
            });
            var toClient = PumpAsync(server.GetStream(), client.GetStream(), () => Volatile.Write(ref clientSpokeLast, 0));
            await Task.WhenAny(toServer, toClient);
            client.Close();
            server.Close();
            await Task.WhenAll(toServer, toClient);
        }
    }

    private async Task PumpAsync(NetworkStream from, NetworkStream to, Action spoke)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            int read;
            while ((read = await from.ReadAsync(buffer, _stop.Token)) > 0)
            {
                spoke();
                await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException or SocketException)
        {
            // Either side closed: the relay of this connection ends.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        Task[] relays;
        lock (_relays)
        {
            relays = [.. _relays];
        }
        await Task.WhenAll(relays);
        _stop.Dispose();
    }
}
