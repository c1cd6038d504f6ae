using System.Net;
using Microsoft.AspNetCore.HttpOverrides;

namespace FlashSale.Ingress.Admission;

/// <summary>
/// X-Forwarded-For is believed only from the proxies configured under <c>ForwardedHeaders</c> (<c>KnownProxies</c>:
/// addresses, <c>KnownNetworks</c>: CIDR ranges). ASP.NET Core's own defaults trust the loopback proxy; they are cleared,
/// so with nothing configured (the default) the header is ignored and the client is the connection's peer. From the
/// right of the header, each hop is taken only while the hop that sent it is a known proxy: a client cannot put an
/// address of its own choosing in front of the proxies' entries.
/// </summary>
public static class KnownProxies
{
    public const string Section = "ForwardedHeaders";

    public static void Apply(ForwardedHeadersOptions options, IConfiguration section)
    {
        options.ForwardedHeaders = ForwardedHeaders.XForwardedFor;
        // No cap on the hops: the walk stops at the first one not sent by a known proxy anyway.
        options.ForwardLimit = null;
        options.KnownProxies.Clear();
        options.KnownIPNetworks.Clear();
        // The obsolete list still carries the loopback default and is still consulted: cleared too.
#pragma warning disable ASPDEPR005
        options.KnownNetworks.Clear();
#pragma warning restore ASPDEPR005
        foreach (var proxy in section.GetSection("KnownProxies").Get<string[]>() ?? [])
        {
            options.KnownProxies.Add(IPAddress.TryParse(proxy, out var address)
                ? address
                : throw new InvalidOperationException($"{Section}:KnownProxies: '{proxy}' is not an IP address."));
        }
        foreach (var network in section.GetSection("KnownNetworks").Get<string[]>() ?? [])
        {
            options.KnownIPNetworks.Add(System.Net.IPNetwork.TryParse(network, out var range)
                ? range
                : throw new InvalidOperationException($"{Section}:KnownNetworks: '{network}' is not a CIDR range such as 10.0.0.0/8."));
        }
        if (options.KnownProxies.Count == 0 && options.KnownIPNetworks.Count == 0)
        {
            // The middleware believes every sender when both lists are empty: with no proxy configured, it must read nothing.
            options.ForwardedHeaders = ForwardedHeaders.None;
        }
    }
}
