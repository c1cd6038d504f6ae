namespace FlashSale.Engine.Fencing;

/// <summary>
/// Whether this process may decide on the Redis it is connected to: closed from a lost connection (or the
/// process's start) until <see cref="RedisIdentityWatcher"/> has checked the identity of the server it talks to
/// now and, when that is not the trusted one, fenced every live SKU. Reservations are refused while it is closed,
/// so no decision reaches a server the engine has not looked at.
/// </summary>
public sealed class RedisIdentityGate
{
    private volatile bool _open;
    private int _epoch;

    public bool IsOpen => _open;

    /// <summary>
    /// Counts the times this process found Redis with an identity it had not seen (and its live SKUs fenced): what
    /// the process remembers of an older epoch's decisions (the sequences it saw) means nothing on the new server.
    /// </summary>
    public int Epoch => Volatile.Read(ref _epoch);

    internal void Open() => _open = true;

    internal void Close() => _open = false;

    internal void IdentityChanged() => Interlocked.Increment(ref _epoch);
}
