using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;
using FlashSale.Contracts;
using FlashSale.LoadTests.Scenarios;

namespace FlashSale.LoadTests.EngineApi;

/// <summary>
/// The reservation request alone over plain HTTP/1.1 keep-alive sockets, for the harness's hot path. HttpClient
/// spends several microseconds and about 3 KB per request (request and response objects, header collections,
/// content streams, its handler pipeline); on a machine the harness shares with the engine that is CPU the
/// engine does not get. Here a request is written from bytes prepared per route and per buyer into a buffer the
/// connection owns, and only the status line, the three headers the harness reads and the body are parsed.
/// Only what the Ingress answers is understood: HTTP/1.1, Content-Length or chunked bodies, Connection: close.
/// Anything else ends the connection and counts as a transport error; a timeout ends it too.
/// </summary>
public sealed class RawReservations : IDisposable
{
    /// <summary>A connection idle longer than this may have been closed by the server's keep-alive timeout: it is replaced rather than reused.</summary>
    private static readonly TimeSpan MaxIdle = TimeSpan.FromSeconds(30);

    private static readonly byte[] KeyHeader = Encoding.ASCII.GetBytes("\r\n" + ApiHeaders.IdempotencyKey + ": ");
    private static readonly byte[] AdmissionHeader = Encoding.ASCII.GetBytes("\r\n" + ApiHeaders.AdmissionToken + ": ");

    private static readonly byte[] QuantityOne = "{\"quantity\":1}"u8.ToArray();

    private readonly EndPoint _endPoint;
    private readonly string _host;
    private readonly BuyerTokens _tokens;
    private readonly SemaphoreSlim _slots;
    private readonly ConcurrentBag<Connection> _idle = [];
    private readonly ConcurrentDictionary<(string CampaignId, long SkuId), byte[]> _heads = new();
    private readonly ConcurrentDictionary<long, byte[]> _authorization = new();
    private bool _disposed;

    public RawReservations(Uri baseAddress, int maxConnections, BuyerTokens tokens)
    {
        _host = baseAddress.Authority;
        _endPoint = IPAddress.TryParse(baseAddress.Host, out var address)
            ? new IPEndPoint(address, baseAddress.Port)
            : new DnsEndPoint(baseAddress.Host, baseAddress.Port);
        _tokens = tokens;
        _slots = new SemaphoreSlim(maxConnections, maxConnections);
    }

    /// <summary>Plain http only; an https Ingress is measured through HttpClient.</summary>
    public static bool Supports(Uri baseAddress) => baseAddress.Scheme == Uri.UriSchemeHttp;

    /// <summary>Sends one reservation and classifies its answer as <see cref="EngineClient.Classify"/> does; never throws for what the server or network did.</summary>
    public async Task<ReserveResult> ReserveAsync(ReserveRequest reservation, CancellationToken timeout)
    {
        try
        {
            await _slots.WaitAsync(timeout);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            return new ReserveResult(Outcome.Timeout);
        }
        Connection? connection = null;
        try
        {
            connection = await RentAsync(timeout);
            var length = WriteRequest(connection, reservation);
            await connection.SendAsync(length, timeout);
            var answer = await connection.ReadResponseAsync(timeout);
            var result = EngineClient.Classify(answer.Status, connection.Body(answer), answer.Replayed);
            if (answer.Close)
            {
                connection.Dispose();
            }
            else
            {
                connection.IdleSince = Stopwatch.GetTimestamp();
                _idle.Add(connection);
            }
            connection = null;
            return result;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            return new ReserveResult(Outcome.Timeout);
        }
        catch (SocketException ex)
        {
            return new ReserveResult(Outcome.TransportError, Detail: ex.SocketErrorCode.ToString());
        }
        catch (IOException ex)
        {
            return new ReserveResult(Outcome.TransportError, Detail: ex.Message);
        }
        finally
        {
            connection?.Dispose();
            _slots.Release();
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<Connection> RentAsync(CancellationToken cancellationToken)
    {
        while (_idle.TryTake(out var connection))
        {
            if (Stopwatch.GetElapsedTime(connection.IdleSince) < MaxIdle)
            {
                return connection;
            }
            connection.Dispose();
        }
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(_endPoint, cancellationToken);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return new Connection(socket);
    }

    /// <summary>The request into the connection's send buffer: the route's prepared head, the buyer's prepared Authorization header, the key and the body.</summary>
    private int WriteRequest(Connection connection, ReserveRequest reservation)
    {
        var head = _heads.GetOrAdd((reservation.CampaignId, reservation.SkuId), static (key, host) => Encoding.ASCII.GetBytes(
            $"POST {ApiRoutes.ReservationsPath(key.CampaignId, key.SkuId)} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nAuthorization: "), _host);
        var authorization = _authorization.GetOrAdd(reservation.BuyerId, static (id, tokens) => Encoding.ASCII.GetBytes(tokens.For(id)), _tokens);
        var body = reservation.Quantity == 1 && reservation.CouponId is null ? QuantityOne : EngineClient.Body(reservation);
        var key = reservation.IdempotencyKey;
        var admission = reservation.AdmissionToken;
        var size = head.Length + authorization.Length + 64 + key.Length + 32 + body.Length + (admission is null ? 0 : AdmissionHeader.Length + admission.Length);
        var span = connection.SendBuffer(size);
        var at = 0;
        head.CopyTo(span);
        at += head.Length;
        authorization.CopyTo(span[at..]);
        at += authorization.Length;
        at += Append(span[at..], KeyHeader);
        // Keys are visible ASCII by the API's rule, which the scenarios keep.
        at += Encoding.ASCII.GetBytes(key, span[at..]);
        if (admission is not null)
        {
            // A waiting room's token: base64url and dots, as the Ingress minted it.
            at += Append(span[at..], AdmissionHeader);
            at += Encoding.ASCII.GetBytes(admission, span[at..]);
        }
        at += Append(span[at..], "\r\nContent-Length: "u8);
        Utf8Formatter.TryFormat(body.Length, span[at..], out var written);
        at += written;
        at += Append(span[at..], "\r\n\r\n"u8);
        body.CopyTo(span[at..]);
        return at + body.Length;
    }

    private static int Append(Span<byte> destination, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(destination);
        return bytes.Length;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        while (_idle.TryTake(out var connection))
        {
            connection.Dispose();
        }
        _slots.Dispose();
    }

    // The connection's async steps complete asynchronously on nearly every request: their state machines come
    // from a pool (PoolingAsyncValueTaskMethodBuilder) instead of one allocation each per request.

    /// <summary>Where a response's parts are in the connection's buffers.</summary>
    private readonly record struct Answer(int Status, bool Replayed, bool Close, bool Chunked, int BodyStart, int BodyLength);

    /// <summary>One keep-alive connection and its buffers; used by one request at a time.</summary>
    private sealed class Connection(Socket socket) : IDisposable
    {
        private byte[] _send = new byte[1024];
        private byte[] _receive = new byte[4096];
        private byte[] _chunked = new byte[1024];
        private int _start;
        private int _end;

        public long IdleSince { get; set; }

        public Span<byte> SendBuffer(int size)
        {
            if (_send.Length < size)
            {
                _send = new byte[Math.Max(size, _send.Length * 2)];
            }
            return _send;
        }

        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
        public async ValueTask SendAsync(int length, CancellationToken cancellationToken)
        {
            var sent = 0;
            while (sent < length)
            {
                sent += await socket.SendAsync(_send.AsMemory(sent, length - sent), SocketFlags.None, cancellationToken);
            }
        }

        public ReadOnlySpan<byte> Body(Answer answer)
            => answer.Chunked ? _chunked.AsSpan(0, answer.BodyLength) : _receive.AsSpan(answer.BodyStart, answer.BodyLength);

        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
        public async ValueTask<Answer> ReadResponseAsync(CancellationToken cancellationToken)
        {
            // Nothing is pipelined, so a response starts at the buffer's start and nothing is left from the last one.
            _start = 0;
            _end = 0;
            int headerEnd;
            while ((headerEnd = _receive.AsSpan(0, _end).IndexOf("\r\n\r\n"u8)) < 0)
            {
                await FillAsync(cancellationToken);
            }
            var head = _receive.AsSpan(0, headerEnd);
            var lineEnd = head.IndexOf("\r\n"u8);
            var statusLine = lineEnd < 0 ? head : head[..lineEnd];
            if (statusLine.Length < 12 || !statusLine.StartsWith("HTTP/1."u8) || !Utf8Parser.TryParse(statusLine.Slice(9, 3), out int status, out _))
            {
                throw new IOException("not an HTTP/1.x status line");
            }
            long? contentLength = null;
            bool chunked = false, close = statusLine[7] == (byte)'0', replayed = false;
            var headers = lineEnd < 0 ? [] : head[(lineEnd + 2)..];
            while (!headers.IsEmpty)
            {
                var next = headers.IndexOf("\r\n"u8);
                var line = next < 0 ? headers : headers[..next];
                headers = next < 0 ? [] : headers[(next + 2)..];
                var colon = line.IndexOf((byte)':');
                if (colon <= 0)
                {
                    continue;
                }
                var name = line[..colon];
                var value = line[(colon + 1)..].Trim((byte)' ');
                if (Ascii.EqualsIgnoreCase(name, "Content-Length"u8))
                {
                    contentLength = Utf8Parser.TryParse(value, out long parsed, out _) ? parsed : throw new IOException("bad Content-Length");
                }
                else if (Ascii.EqualsIgnoreCase(name, "Transfer-Encoding"u8))
                {
                    chunked = value.EndsWith("chunked"u8);
                }
                else if (Ascii.EqualsIgnoreCase(name, "Connection"u8))
                {
                    close = Ascii.EqualsIgnoreCase(value, "close"u8);
                }
                else if (Ascii.EqualsIgnoreCase(name, ApiHeaders.IdempotentReplayed))
                {
                    replayed = Ascii.EqualsIgnoreCase(value, "true"u8);
                }
            }
            _start = headerEnd + 4;
            if (chunked)
            {
                var length = await ReadChunkedAsync(cancellationToken);
                return new Answer(status, replayed, close, true, 0, length);
            }
            if (contentLength is not { } bodyLength)
            {
                // No length and not chunked: a body without one (1xx, 204, 304), else one that ends with the connection.
                if (status is 204 or 304 or < 200)
                {
                    return new Answer(status, replayed, close, false, _start, 0);
                }
                while (await TryFillAsync(cancellationToken))
                {
                }
                return new Answer(status, replayed, Close: true, false, _start, _end - _start);
            }
            while (_end - _start < bodyLength)
            {
                await FillAsync(cancellationToken);
            }
            return new Answer(status, replayed, close, false, _start, (int)bodyLength);
        }

        /// <summary>Decodes a chunked body into its own buffer; returns its length.</summary>
        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
        private async ValueTask<int> ReadChunkedAsync(CancellationToken cancellationToken)
        {
            var length = 0;
            while (true)
            {
                int lineEnd;
                while ((lineEnd = _receive.AsSpan(_start, _end - _start).IndexOf("\r\n"u8)) < 0)
                {
                    await FillAsync(cancellationToken);
                }
                var sizeField = _receive.AsSpan(_start, lineEnd);
                var extension = sizeField.IndexOf((byte)';');
                if (!Utf8Parser.TryParse(extension < 0 ? sizeField : sizeField[..extension], out int size, out _, 'x') || size < 0)
                {
                    throw new IOException("bad chunk size");
                }
                _start += lineEnd + 2;
                if (size == 0)
                {
                    // Trailers, if any, end with an empty line.
                    while (true)
                    {
                        while ((lineEnd = _receive.AsSpan(_start, _end - _start).IndexOf("\r\n"u8)) < 0)
                        {
                            await FillAsync(cancellationToken);
                        }
                        _start += lineEnd + 2;
                        if (lineEnd == 0)
                        {
                            return length;
                        }
                    }
                }
                while (_end - _start < size + 2)
                {
                    await FillAsync(cancellationToken);
                }
                if (_chunked.Length < length + size)
                {
                    Array.Resize(ref _chunked, Math.Max(length + size, _chunked.Length * 2));
                }
                _receive.AsSpan(_start, size).CopyTo(_chunked.AsSpan(length));
                length += size;
                _start += size + 2;
            }
        }

        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
        private async ValueTask FillAsync(CancellationToken cancellationToken)
        {
            if (!await TryFillAsync(cancellationToken))
            {
                throw new IOException("the server closed the connection");
            }
        }

        /// <summary>Reads more into the receive buffer, making room first; false when the server closed the connection.</summary>
        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
        private async ValueTask<bool> TryFillAsync(CancellationToken cancellationToken)
        {
            if (_end == _receive.Length)
            {
                Array.Resize(ref _receive, _receive.Length * 2);
            }
            var read = await socket.ReceiveAsync(_receive.AsMemory(_end), SocketFlags.None, cancellationToken);
            _end += read;
            return read > 0;
        }

        public void Dispose() => socket.Dispose();
    }
}
