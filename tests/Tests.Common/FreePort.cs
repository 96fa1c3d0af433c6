using System.Net;
using System.Net.Sockets;

namespace Tests.Common;

public static class FreePort
{
    // Below Linux's ephemeral range (32768-60999): a server restarted on its port (RedisServer.RestartAsync)
    // must not find it taken by some test's outgoing connection in the meantime, which an ephemeral port
    // can be once hundreds of raw sockets are opened (the hostile-input suite).
    private const int First = 20_000;
    private const int Last = 32_000;

    /// <summary>A loopback port nobody listens on right now (for servers that cannot bind port 0 themselves).</summary>
    public static int Next()
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var port = Random.Shared.Next(First, Last);
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
                // Taken: try another.
            }
        }

        throw new InvalidOperationException($"no free loopback port between {First} and {Last}");
    }
}
