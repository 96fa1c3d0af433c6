using System.Net.Sockets;

namespace ServiceDefaults.Routing;

/// <summary>Connects to an editor on a Unix socket (a <c>unix:</c> route, <see cref="Contracts.Routing.UnixSocketRoute"/>).</summary>
public static class UnixSocketConnection
{
    /// <summary>A connection to the editor listening on <paramref name="socketPath"/> (the gateway forwarding, the operator probing).</summary>
    public static async ValueTask<Socket> ConnectAsync(string socketPath, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
