using System.Globalization;

namespace Bench.Servers;

/// <summary>
/// Established TCP connections on the loopback, from /proc/net/tcp: which of a process's sockets lead to
/// given ports (a gateway's connections to its workspaces), which the process's own counters cannot show
/// once it is the one leaking them.
/// </summary>
internal static class TcpTable
{
    private const string Established = "01";

    /// <summary>How many of <paramref name="socketInodes"/> are established connections to one of <paramref name="remotePorts"/>.</summary>
    public static int CountTo(IReadOnlySet<long> socketInodes, IReadOnlySet<int> remotePorts)
    {
        var count = 0;
        foreach (var table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            if (!File.Exists(table))
            {
                continue;
            }

            foreach (var line in File.ReadLines(table).Skip(1))
            {
                // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length < 10 || fields[3] != Established)
                {
                    continue;
                }

                var remotePort = int.Parse(fields[2].AsSpan(fields[2].IndexOf(':') + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                if (remotePorts.Contains(remotePort) && long.TryParse(fields[9], CultureInfo.InvariantCulture, out var inode) && socketInodes.Contains(inode))
                {
                    count++;
                }
            }
        }

        return count;
    }
}
