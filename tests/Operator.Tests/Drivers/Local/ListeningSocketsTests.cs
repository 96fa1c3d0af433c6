using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Operator.Drivers.Local;

namespace Operator.Tests.Drivers.Local;

/// <summary>
/// Which ports a workspace's dev servers listen on, read from a real /proc: a server started by a shell that
/// the "editor" started (as a terminal does) is found; a listener of another process tree is not.
/// </summary>
public sealed class ListeningSocketsTests
{
    [Fact]
    public async Task A_server_started_below_the_editor_is_found_and_one_elsewhere_is_not()
    {
        using var elsewhere = new TcpListener(IPAddress.Loopback, 0);
        elsewhere.Start();
        var otherPort = ((IPEndPoint)elsewhere.LocalEndpoint).Port;
        var devPort = FreePort();

        // The "editor" runs a shell which, in a session of its own as node-pty gives a terminal, runs the server.
        var start = new ProcessStartInfo("sh", ["-c", $"setsid python3 -m http.server {devPort.ToString(CultureInfo.InvariantCulture)} --bind 127.0.0.1 & wait"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var editor = Process.Start(start)!;
        try
        {
            IReadOnlyList<int> ports = [];
            var deadline = Stopwatch.StartNew();
            while (!ports.Contains(devPort) && deadline.Elapsed < TimeSpan.FromSeconds(10))
            {
                await Task.Delay(100);
                ports = ListeningSockets.Of(editor.Id);
            }

            Assert.Equal([devPort], ports);
            Assert.DoesNotContain(otherPort, ports);
            Assert.Empty(ListeningSockets.Of(editor.Id, except: devPort));
        }
        finally
        {
            foreach (var pid in ProcessTree.Of(editor.Id).Skip(1))
            {
                Process.GetProcessById(pid).Kill();
            }

            editor.Kill(entireProcessTree: true);
            await editor.WaitForExitAsync();
        }
    }

    [Fact]
    public void A_table_line_is_read_as_port_and_inode_and_only_listening_ones_count()
    {
        var table = Path.GetTempFileName();
        try
        {
            File.WriteAllLines(table,
            [
                "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
                "   0: 0100007F:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4242 1 0000000000000000 100 0 0 10 0",
                "   1: 0100007F:0BB9 0100007F:9C40 01 00000000:00000000 00:00000000 00000000  1000        0 4343 1 0000000000000000 20 4 30 10 -1",
            ]);

            Assert.Equal([(3000, "4242")], ListeningSockets.ListeningIn(table).ToList());
        }
        finally
        {
            File.Delete(table);
        }
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
