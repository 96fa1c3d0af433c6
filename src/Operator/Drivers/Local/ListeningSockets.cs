using System.Globalization;

namespace Operator.Drivers.Local;

/// <summary>
/// The TCP ports an editor and everything it started (terminals, dev servers, language servers) listen on,
/// read from <c>/proc</c> as <c>ss -ltnp</c> does: the processes descending from the editor, the socket
/// inodes their descriptors hold, and which of those <c>/proc/net/tcp</c> and <c>tcp6</c> list as listening.
/// Descent, not the process group: a terminal's shell gets a session of its own (node-pty calls setsid).
/// </summary>
internal static class ListeningSockets
{
    private const string Listen = "0A";

    /// <summary>The listening ports of <paramref name="rootPid"/> and its descendants, in order, without <paramref name="except"/>.</summary>
    public static IReadOnlyList<int> Of(int rootPid, int except = 0)
    {
        var inodes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var pid in ProcessTree.Of(rootPid))
        {
            try
            {
                foreach (var fd in Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd"))
                {
                    if (new FileInfo(fd).LinkTarget is { } target && target.StartsWith("socket:[", StringComparison.Ordinal))
                    {
                        inodes.Add(target[8..^1]);
                    }
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Exited meanwhile, or not ours to read: it has nothing to offer.
            }
        }

        var ports = new SortedSet<int>();
        foreach (var table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            foreach (var (port, inode) in ListeningIn(table))
            {
                if (port != except && inodes.Contains(inode))
                {
                    ports.Add(port);
                }
            }
        }

        return [.. ports];
    }

    /// <summary>Listening sockets of one table: (local port, inode).</summary>
    internal static IEnumerable<(int Port, string Inode)> ListeningIn(string table)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(table);
        }
        catch (IOException)
        {
            yield break;
        }

        // "sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ..."
        foreach (var line in lines.Skip(1))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length > 9 && fields[3] == Listen
                && fields[1].LastIndexOf(':') is var colon and > 0
                && int.TryParse(fields[1].AsSpan(colon + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var port))
            {
                yield return (port, fields[9]);
            }
        }
    }
}
