using System.Globalization;

namespace Gateway.Routing;

/// <summary>Where one workspace lives, parsed once when it enters the cache.</summary>
public sealed class WorkspaceRoute
{
    // 1 once a request used this route since the activity recorder last looked (issue #7, idle auto-stop).
    private int _used;

    private WorkspaceRoute(string sid, string address)
    {
        Sid = sid;
        Address = address;
        DestinationPrefix = "http://" + address;
    }

    public string Sid { get; }

    /// <summary>The stored value, <c>host:port</c>.</summary>
    public string Address { get; }

    /// <summary><c>http://host:port</c>, to which the request target is appended.</summary>
    public string DestinationPrefix { get; }

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
    /// <c>hostname:port</c>; nothing that could smuggle a path, user-info or query into the upstream URI.
    /// </summary>
    public static bool TryParse(string sid, string value, out WorkspaceRoute? route)
    {
        route = null;
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

        route = new WorkspaceRoute(sid, value);
        return true;
    }
}
