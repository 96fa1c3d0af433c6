using System.Text;

namespace Contracts.Routing;

/// <summary>
/// The second spelling of a route in hash <c>hosts</c>, beside <c>host:port</c>: <c>unix:&lt;absolute path&gt;</c>,
/// an editor listening on a Unix socket (the operator's local driver, where every editor runs as a user of its
/// own and a socket in its own folder is what no other workspace can connect to, unlike a loopback port).
/// Written by the operator, read by the gateway, which follows only paths under its configured directory.
/// </summary>
public static class UnixSocketRoute
{
    public const string Prefix = "unix:";

    /// <summary>What a socket path may take at most: <c>sun_path</c> is 108 bytes with its terminating NUL.</summary>
    public const int MaxPathBytes = 107;

    public static string Format(string socketPath) => Prefix + socketPath;

    /// <summary>
    /// The socket path of a <c>unix:</c> route: absolute, already normalised (no <c>.</c>, <c>..</c> or doubled
    /// separators, so a prefix check means what it says), no control characters, short enough to connect to.
    /// </summary>
    public static bool TryParse(string value, out string socketPath)
    {
        socketPath = "";
        if (!value.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }

        var path = value[Prefix.Length..];
        if (path.Length < 2
            || path[0] != '/'
            || path.EndsWith('/')
            || path.Any(char.IsControl)
            || Encoding.UTF8.GetByteCount(path) > MaxPathBytes
            || !string.Equals(Path.GetFullPath(path), path, StringComparison.Ordinal))
        {
            return false;
        }

        socketPath = path;
        return true;
    }
}
