using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using Gateway.Errors;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.Net.Http.Headers;

namespace Gateway.Forwarding;

/// <summary>
/// Carries an upgraded connection (an editor's WebSocket, a terminal, any 101) once the workspace has
/// switched protocols, in place of YARP's StreamCopier. Per message that copier makes a zero-byte read,
/// rents and returns a 64 KiB buffer, re-arms its activity timer twice (a timer-queue lock each time) and
/// writes then flushes: most of a tunnel's CPU for an editor's small frames. Here a buffer is held only
/// while bytes are moving, a write is one call, and idleness is a timestamp that <see cref="OpenTunnels"/>
/// sweeps.
/// </summary>
internal sealed partial class TunnelRelay(ILogger<TunnelRelay> logger)
{
    // Rented only while bytes move, so the size costs nothing while a tunnel is idle. An editor's messages
    // are small, but files and terminal floods pass through tunnels too, and a 64 KiB message should take
    // one read on the workspace's side (YARP's copier used the same size).
    private const int ReadSize = 64 * 1024;

    private static readonly TimeSpan RouteNewsWithin = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Restores what the 101 needs on the browser's side and relays until either side ends. Returns when
    /// the tunnel is over; the response is then complete.
    /// </summary>
    public async Task RelayAsync(HttpContext context, HttpResponseMessage switched, OpenTunnels.Tunnel tunnel)
    {
        // A WebSocket over HTTP/2 (RFC 8441) was sent on as an HTTP/1.1 upgrade: code-server speaks nothing else.
        var connect = context.Features.Get<IHttpExtendedConnectFeature>() is { IsExtendedConnect: true } extended ? extended : null;
        if (connect is null)
        {
            RestoreUpgradeHeaders(context, switched);
        }
        else if (!AcceptsOurKey(context, switched))
        {
            LogUpgradeFailed(tunnel.Sid, "the workspace's Sec-WebSocket-Accept does not match the key sent");
            await GatewayProblemWriter.WriteAsync(context, GatewayProblem.WorkspaceUpgradeInvalid, tunnel.Sid);
            return;
        }
        else
        {
            // On HTTP/2 the handshake ends with a 200 and no key exchange (RFC 8441 §5).
            context.Response.Headers.Remove(HeaderNames.SecWebSocketAccept);
            context.Response.StatusCode = StatusCodes.Status200OK;
        }

        Stream browser, workspace;
        try
        {
            // Sends the 101 (the 200) to the browser. From then on Kestrel carries the connection only through
            // the stream it returns: Request.BodyReader reads an empty body and Response.BodyWriter refuses writes.
            browser = connect is null ? await context.Features.Get<IHttpUpgradeFeature>()!.UpgradeAsync() : await connect.AcceptAsync();
            context.Features.Get<IHttpRequestTimeoutFeature>()?.DisableTimeout();
            workspace = await switched.Content.ReadAsStreamAsync();
        }
        catch (Exception ex) when (IsConnectionEnd(ex))
        {
            LogUpgradeFailed(tunnel.Sid, ex.Message);
            return;
        }

        await RelayAsync(browser, browser, workspace, tunnel);
    }

    /// <summary>
    /// Relays between a browser and a workspace that switched protocols until either side ends, reading the
    /// browser's bytes from <paramref name="browserReads"/> and writing the workspace's to <paramref name="browserWrites"/>
    /// (one stream for Kestrel's upgraded request; the two halves of the connection on the fast path).
    /// <paramref name="received"/>: what the workspace sent right after its 101 and was read with it.
    /// </summary>
    public async Task RelayAsync(Stream browserReads, Stream browserWrites, Stream workspace, OpenTunnels.Tunnel tunnel, ReadOnlyMemory<byte> received = default)
    {
        tunnel.Started(workspace);
        using var reads = new CancellationTokenSource();
        var toWorkspace = ToWorkspaceAsync(browserReads, workspace, tunnel, reads.Token);
        var toBrowser = ToBrowserAsync(workspace, browserWrites, tunnel, received);
        if (await Task.WhenAny(toWorkspace, toBrowser) == toBrowser)
        {
            // The workspace is done (or we are, on shutdown): the browser's pending read has nothing to wait for.
            await reads.CancelAsync();
        }
        else if (!await toWorkspace)
        {
            // The browser's side failed: nobody is left to read what the workspace would send, and disposing
            // the stream is what wakes the workspace's pending read.
            workspace.Dispose();
        }

        await toBrowser;
        await toWorkspace;
        workspace.Dispose(); // idempotent; the normal end of both directions
    }

    /// <summary>The browser's bytes. False when the browser's side failed.</summary>
    private async Task<bool> ToWorkspaceAsync(Stream browser, Stream workspace, OpenTunnels.Tunnel tunnel, CancellationToken cancellation)
    {
        byte[]? buffer = null;
        try
        {
            var more = false;
            while (true)
            {
                if (!more)
                {
                    // Kestrel's zero-byte read waits in its own pipe: no buffer of ours is held while idle.
#pragma warning disable CA2022 // A zero-byte read only waits for data; what it returns is always 0.
                    await browser.ReadAsync(Memory<byte>.Empty, cancellation);
#pragma warning restore CA2022
                }

                buffer ??= ArrayPool<byte>.Shared.Rent(ReadSize);
                var read = await browser.ReadAsync(buffer, cancellation);
                if (read == 0)
                {
                    return true;
                }

                await workspace.WriteAsync(buffer.AsMemory(0, read), cancellation);
                tunnel.Touch();
                more = read == buffer.Length;
                if (!more)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = null;
                }
            }
        }
        catch (Exception ex) when (IsConnectionEnd(ex))
        {
            if (!cancellation.IsCancellationRequested)
            {
                LogSideEnded(tunnel.Sid, "browser to workspace", ex.Message);
            }

            return cancellation.IsCancellationRequested;
        }
        finally
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    private async Task ToBrowserAsync(Stream workspace, Stream browser, OpenTunnels.Tunnel tunnel, ReadOnlyMemory<byte> received)
    {
        var frames = new WebSocketFrameBoundary();
        byte[]? buffer = null;

        // The workspace's side ended on its own (the editor exited or crashed), not ours or the browser's.
        var workspaceEnded = false;
        var writing = false;
        try
        {
            if (!received.IsEmpty)
            {
                // Frames from before the relay started count as any others: a close among them is the workspace's.
                if (tunnel.IsWebSocket)
                {
                    frames.Advance(received.Span);
                }

                writing = true;
                await browser.WriteAsync(received);
                writing = false;
            }

            var more = false;
            while (true)
            {
                if (!more)
                {
                    // Wait for the workspace without holding a buffer: most tunnels are idle most of the time.
                    tunnel.Parked = frames.AtBoundary;
#pragma warning disable CA2022 // A zero-byte read only waits for data; what it returns is always 0.
                    await workspace.ReadAsync(Memory<byte>.Empty);
#pragma warning restore CA2022
                    tunnel.Parked = false;
                }

                buffer ??= ArrayPool<byte>.Shared.Rent(ReadSize);
                var read = await workspace.ReadAsync(buffer);
                if (read == 0)
                {
                    workspaceEnded = true;
                    break;
                }

                if (tunnel.IsWebSocket)
                {
                    frames.Advance(buffer.AsSpan(0, read));
                }

                writing = true;
                await browser.WriteAsync(buffer.AsMemory(0, read));
                writing = false;
                tunnel.Touch();

                // A full buffer means more is probably waiting: read again at once, with the same buffer.
                more = read == buffer.Length;
                if (!more)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = null;
                }

                if (tunnel.GoingAway && frames.AtBoundary)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (IsConnectionEnd(ex))
        {
            // Also how a shutdown wakes a parked tunnel: it disposes the workspace's stream (ObjectDisposed).
            if (!tunnel.GoingAway)
            {
                workspaceEnded = !writing && ex is IOException or HttpRequestException;
                LogSideEnded(tunnel.Sid, "workspace to browser", ex.Message);
            }
        }
        finally
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        if (!tunnel.IsWebSocket || !frames.AtBoundary)
        {
            return;
        }

        // The workspace gone without a close of its own: the operator removes a route before it stops the editor,
        // but the news of it can reach us after the editor's exit does. Wait a moment for it, so a stop the user
        // asked for is not reported as a crash.
        if (workspaceEnded && !frames.SawClose)
        {
            await tunnel.WaitForGoingAwayAsync(RouteNewsWithin);
        }

        // Ours to close: the reason we were given. The workspace gone without a close of its own: say so,
        // instead of a cut connection the browser can only call 1006.
        var goingAway = tunnel.GoingAway;
        var closeFrame = goingAway ? tunnel.CloseFrame : workspaceEnded && !frames.SawClose ? WebSocketCloseFrame.EditorGone : null;
        if (closeFrame is not null)
        {
            try
            {
                await browser.WriteAsync(closeFrame);
                if (goingAway)
                {
                    tunnel.GoingAwaySent();
                }
            }
            catch (Exception ex) when (IsConnectionEnd(ex))
            {
                LogSideEnded(tunnel.Sid, "close frame", ex.Message);
            }
        }
    }

    /// <summary>
    /// The workspace's answer to the key the forwarder made up for the HTTP/1.1 leg (RFC 6455 §4.2.2): anything
    /// else is not a WebSocket handshake, and the browser's HTTP/2 side has no key of its own to check it with.
    /// </summary>
    private static bool AcceptsOurKey(HttpContext context, HttpResponseMessage switched)
    {
        IEnumerable<string>? keys = null;
        if (switched.RequestMessage?.Headers.TryGetValues(HeaderNames.SecWebSocketKey, out keys) != true
            || keys?.FirstOrDefault() is not { } key)
        {
            return false;
        }

#pragma warning disable CA5350 // RFC 6455 defines the handshake with SHA-1; it is not used for security here.
        var expected = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
#pragma warning restore CA5350
        return string.Equals(context.Response.Headers.SecWebSocketAccept.ToString(), expected, StringComparison.Ordinal);
    }

    private static bool IsConnectionEnd(Exception ex) =>
        ex is IOException or ObjectDisposedException or OperationCanceledException or HttpRequestException or InvalidOperationException;

    /// <summary>
    /// Connection and Upgrade are hop-by-hop and were not copied with the other headers; a 101 without
    /// them is not an upgrade to the browser (RFC 9110 §7.8).
    /// </summary>
    private static void RestoreUpgradeHeaders(HttpContext context, HttpResponseMessage switched)
    {
        if (switched.Headers.TryGetValues("Upgrade", out var upgrade))
        {
            context.Response.Headers.Upgrade = upgrade.ToArray();
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Tunnel of workspace {Sid}: {Direction} ended: {Reason}")]
    private partial void LogSideEnded(string sid, string direction, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Tunnel of workspace {Sid}: the browser's side could not be upgraded: {Reason}")]
    private partial void LogUpgradeFailed(string sid, string reason);
}
