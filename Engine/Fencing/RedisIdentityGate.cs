using FlashSale.Engine.Redis;

namespace FlashSale.Engine.Fencing;

/// <summary>
/// Whether this process may decide on the Redis it is connected to: closed from a lost connection (or the
/// process's start) until <see cref="RedisIdentityWatcher"/> has checked the identity of the server it talks to
/// now and, when that is not the trusted one, fenced every live SKU. Reservations are refused while it is closed,
/// so no decision reaches a server the engine has not looked at.
/// <para>
/// On a Redis Cluster a lost connection to one node closes the gate only for the SKUs whose hash slot that node
/// served at the last check (<see cref="IsOpenFor"/>): the other primaries' SKUs keep selling, and a check that sees
/// the whole cluster again opens it. Before the first check the gate is closed for every SKU.
/// </para>
/// </summary>
public sealed class RedisIdentityGate
{
    private volatile bool _open;
    private volatile View _view = new(null, []);
    private readonly Lock _changing = new();
    private int _epoch;

    /// <summary>Open for SKUs in general (checked since the start or the last lost connection to a single server).</summary>
    public bool IsOpen => _open;

    /// <summary>Open, and the primary that served the SKU at the last check has not lost its connection since.</summary>
    public bool IsOpenFor(SkuKeys sku)
    {
        if (!_open)
        {
            return false;
        }
        var view = _view;
        return view.Closed.Count == 0 || view.Topology is null || !view.Closed.Contains(view.Topology.PrimaryOf(sku).EndPoint);
    }

    /// <summary>Open, and the primary that served the coupon pool at the last check has not lost its connection since.</summary>
    public bool IsOpenFor(CouponKeys pool)
    {
        if (!_open)
        {
            return false;
        }
        var view = _view;
        return view.Closed.Count == 0 || view.Topology is null
            || !view.Closed.Contains(view.Topology.PrimaryOfSlot(HashSlot.Of(pool.Tag), pool.Member).EndPoint);
    }

    /// <summary>
    /// Counts the times this process found Redis with an identity it had not seen (and its live SKUs fenced): what
    /// the process remembers of an older epoch's decisions (the sequences it saw) means nothing on the new server.
    /// </summary>
    public int Epoch => Volatile.Read(ref _epoch);

    /// <summary>Opens the gate for every SKU of <paramref name="topology"/>, as just checked.</summary>
    internal void Open(RedisTopology topology)
    {
        lock (_changing)
        {
            _view = new View(topology, []);
            _open = true;
        }
    }

    internal void Close() => _open = false;

    /// <summary>
    /// The connection to <paramref name="endPoint"/> was lost: on a cluster, closes the gate for the SKUs it served at
    /// the last check; otherwise (or before any check) for every SKU.
    /// </summary>
    internal void Close(string endPoint)
    {
        lock (_changing)
        {
            var view = _view;
            if (view.Topology is not { IsCluster: true })
            {
                Close();
                return;
            }
            _view = view with { Closed = [.. view.Closed, endPoint] };
        }
    }

    /// <summary>
    /// Closes the gate for the SKUs of <paramref name="primaries"/> in <paramref name="topology"/> (on a single server: for
    /// every SKU), until <see cref="Open"/>.
    /// </summary>
    internal void Close(RedisTopology topology, IEnumerable<RedisPrimary> primaries)
    {
        if (!topology.IsCluster)
        {
            Close();
            return;
        }
        lock (_changing)
        {
            _view = new View(topology, [.. _view.Closed, .. primaries.Select(p => p.EndPoint)]);
        }
    }

    internal void IdentityChanged() => Interlocked.Increment(ref _epoch);

    private sealed record View(RedisTopology? Topology, HashSet<string> Closed);
}
