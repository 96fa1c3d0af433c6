using System.Globalization;
using Contracts.Routing;

namespace Gateway.Routing;

/// <summary>Where one workspace lives, parsed once when it enters the cache.</summary>
public sealed class WorkspaceRoute
{
    private const int MaxRememberedPorts = 16;

    // 1 once a request used this route since the activity recorder last looked (idle auto-stop).
    private int _used;
    private (int Port, string Prefix)[] _portPrefixes = [];

    private WorkspaceRoute(string sid, string address, string destinationHost)
    {
        Sid = sid;
        Address = address;
        DestinationPrefix = "http://" + destinationHost;
    }

    public string Sid { get; }

    /// <summary>The stored value, <c>host:port</c> or <c>unix:&lt;path&gt;</c>.</summary>
    public string Address { get; }

    /// <summary><c>http://host:port</c> (or the host that carries a socket's path), to which the request target is appended.</summary>
    public string DestinationPrefix { get; }

    /// <summary>
    /// <c>http://host:port/proxy/&lt;port&gt;</c>: a dev server reached the way code-server's own port proxy
    /// reaches it (so a server bound to localhost inside the workspace works), which also strips the prefix:
    /// on its own origin the dev server lives at <c>/</c>. Built once per port and kept with the route, so a
    /// cached request allocates nothing for it.
    /// </summary>
    public string DestinationPrefixForPort(int port)
    {
        var known = Volatile.Read(ref _portPrefixes);
        foreach (var entry in known)
        {
            if (entry.Port == port)
            {
                return entry.Prefix;
            }
        }

        var prefix = string.Concat(DestinationPrefix, "/proxy/", port.ToString(CultureInfo.InvariantCulture));

        // A copy with one more entry, swapped in whole; a lost race only builds the string twice. Bounded: a
        // client walking every port gets fresh strings past the limit instead of growing the route.
        if (known.Length < MaxRememberedPorts)
        {
            Interlocked.CompareExchange(ref _portPrefixes, [.. known, (port, prefix)], known);
        }

        return prefix;
    }

    /// <summary>Notes a use. Read before write: the common case (already noted) does not dirty the cache line.</summary>
    internal void MarkUsed()
    {
        if (Volatile.Read(ref _used) == 0)
        {
            Volatile.Write(ref _used, 1);
        }
    }

    /// <summary>Whether the route was used since the last call.</summary>
    internal bool TakeUsed() => Interlocked.Exchange(ref _used, 0) != 0;

    /// <summary>
    /// Accepts exactly what the old proxy's writers store: <c>ipv4:port</c>, <c>[ipv6]:port</c> or
    /// <c>hostname:port</c>; nothing that could smuggle a path, user-info or query into the upstream URI. And
    /// <c>unix:&lt;path&gt;</c> (the local driver's editors), only for a socket under
    /// <paramref name="unixSocketDirectory"/>: a route must never point the gateway at another service's socket.
    /// </summary>
    public static bool TryParse(string sid, string value, string unixSocketDirectory, out WorkspaceRoute? route)
    {
        route = null;
        if (value.StartsWith(UnixSocketRoute.Prefix, StringComparison.Ordinal))
        {
            if (unixSocketDirectory.Length == 0
                || !UnixSocketRoute.TryParse(value, out var socketPath)
                || !socketPath.StartsWith(unixSocketDirectory.TrimEnd('/') + "/", StringComparison.Ordinal))
            {
                return false;
            }

            route = new WorkspaceRoute(sid, value, Forwarding.UnixSocketHost.Encode(socketPath));
            return true;
        }

        var colon = value.LastIndexOf(':');
        if (colon <= 0 || colon == value.Length - 1)
        {
            return false;
        }

        var host = value.AsSpan(0, colon);
        var port = value.AsSpan(colon + 1);
        if (port.ContainsAnyExceptInRange('0', '9')
            || !int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var portNumber)
            || portNumber is < 1 or > 65535)
        {
            return false;
        }

        var hostKind = Uri.CheckHostName(host.StartsWith('[') && host.EndsWith(']') ? host[1..^1].ToString() : host.ToString());
        if (hostKind == UriHostNameType.Unknown || (hostKind == UriHostNameType.IPv6 && !host.StartsWith('[')))
        {
            return false;
        }

        route = new WorkspaceRoute(sid, value, value);
        return true;
    }
}
