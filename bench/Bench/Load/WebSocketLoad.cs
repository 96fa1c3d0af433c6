using System.Diagnostics;
using System.Net.WebSockets;
using Bench.Servers;

namespace Bench.Load;

/// <param name="ServerCpuMicrosecondsPerMessage">
/// The measured server's CPU time per echoed message (both directions through it); for a proxy this
/// excludes the echo backend. The generator tops out near the direct echo's rate, so for fast proxies this,
/// not msgs/s, says which costs less.
/// </param>
internal sealed record EchoRun(double MessagesPerSecond, Latency RoundTrip, double? ServerCpuMicrosecondsPerMessage);

internal sealed record IdleRun(int Requested, int Opened, int Failed, int AliveAfterHold, long BaselineBytes, long LoadedBytes)
{
    public double BytesPerConnection => Opened == 0 ? 0 : (LoadedBytes - BaselineBytes) / (double)Opened;
}

/// <summary>How the harness's WebSockets reach a target over TLS: its HTTPS port, HTTP/2 or HTTP/1.1, the client that trusts the bench certificate.</summary>
internal sealed record TlsTransport(int Port, bool Http2, HttpMessageInvoker Invoker);

internal static class WebSocketLoad
{
    private static readonly byte[] Message = new byte[64];

    public const int LargeFrameBytes = 64 * 1024;

    /// <summary>Round trips through the target: each connection sends its next message when the echo is back.</summary>
    /// <param name="tls">Over TLS, as described; plain <c>ws://</c> when null.</param>
    public static async Task<EchoRun> EchoAsync(Target target, PinnedProcess? server, int connections, TimeSpan duration, string label, int messageBytes = 64, TlsTransport? tls = null)
    {
        var message = messageBytes == Message.Length ? Message : new byte[messageBytes];
        // One first, then the rest at once: a browser opens its editor's sockets after the page, whose request the
        // gateway has checked the session of by then (the same for every target; nginx checks nothing).
        var first = await ConnectAsync(target, tls);
        ClientWebSocket[] sockets = [first, .. await Task.WhenAll(Enumerable.Range(1, connections - 1).Select(_ => ConnectAsync(target, tls)))];
        var cpuBefore = server?.CpuTime();
        await using var progress = new Progress(label, "msg", duration);
        using var stop = new CancellationTokenSource(duration);
        var clock = Stopwatch.StartNew();
        var parts = await Task.WhenAll(sockets.Select(socket => Task.Run(async () =>
        {
            var recorder = new LatencyRecorder();
            var buffer = new byte[Math.Max(1024, messageBytes)];
            while (!stop.IsCancellationRequested)
            {
                var started = Stopwatch.GetTimestamp();
                try
                {
                    await socket.SendAsync(message, WebSocketMessageType.Binary, true, CancellationToken.None);
                    ValueWebSocketReceiveResult result;
                    do
                    {
                        result = await socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
                    }
                    while (!result.EndOfMessage);
                    recorder.Record(LatencyRecorder.MicrosecondsSince(started));
                }
                catch (WebSocketException)
                {
                    recorder.Errors++;
                    return recorder;
                }

                progress.Add();
            }

            return recorder;
        })));
        var elapsed = clock.Elapsed;
        var cpuAfter = server?.CpuTime();
        await Task.WhenAll(sockets.Select(CloseAsync));
        var merged = LatencyRecorder.Merge(parts);
        double? cpuPerMessage = cpuBefore is { } before && cpuAfter is { } after && merged.Histogram.TotalCount > 0
            ? (after - before).TotalMicroseconds / merged.Histogram.TotalCount
            : null;
        return new EchoRun(merged.Histogram.TotalCount / elapsed.TotalSeconds, merged.Summarize(), cpuPerMessage);
    }

    /// <summary>Holds many idle editor-like connections open and measures what they cost the proxy.</summary>
    public static async Task<IdleRun> IdleAsync(Target target, int count, TimeSpan hold, string label)
    {
        var process = target.Process ?? throw new InvalidOperationException("idle connections are measured on proxies only");
        var baseline = process.ResidentBytes();
        var sockets = new List<ClientWebSocket>(count);
        var failed = 0;
        await using (var progress = new Progress(label, "conn", TimeSpan.Zero))
        {
            using var gate = new SemaphoreSlim(100);
            var opening = Enumerable.Range(0, count).Select(async _ =>
            {
                await gate.WaitAsync();
                try
                {
                    var socket = await ConnectAsync(target);
                    lock (sockets)
                    {
                        sockets.Add(socket);
                    }

                    progress.Add();
                }
                catch (Exception ex) when (ex is WebSocketException or HttpRequestException or OperationCanceledException)
                {
                    Interlocked.Increment(ref failed);
                }
                finally
                {
                    gate.Release();
                }
            });
            await Task.WhenAll(opening);
        }

        await Task.Delay(hold);
        var loaded = process.ResidentBytes();

        // Idle is not dead: every connection must still carry a message after the hold.
        var alive = 0;
        await Task.WhenAll(sockets.Select(async socket =>
        {
            try
            {
                await socket.SendAsync(Message, WebSocketMessageType.Binary, true, CancellationToken.None);
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                await socket.ReceiveAsync(new byte[1024].AsMemory(), timeout.Token);
                Interlocked.Increment(ref alive);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
            }
        }));
        await Task.WhenAll(sockets.Select(CloseAsync));
        return new IdleRun(count, sockets.Count, failed, alive, baseline, loaded);
    }

    private static async Task<ClientWebSocket> ConnectAsync(Target target, TlsTransport? tls = null)
    {
        var socket = new ClientWebSocket();
        if (BenchCredentials.CookieFor(target.WebSocketPath) is { } cookie)
        {
            socket.Options.SetRequestHeader("Cookie", cookie);
        }
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        if (tls is null)
        {
            await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{target.WebSocketPort}{target.WebSocketPath}"), timeout.Token);
            return socket;
        }

        // As a browser does: over HTTP/2 every socket of the origin shares the one connection (extended CONNECT).
        if (tls.Http2)
        {
            socket.Options.HttpVersion = System.Net.HttpVersion.Version20;
            socket.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        }

        await socket.ConnectAsync(new Uri($"wss://127.0.0.1:{tls.Port}{target.WebSocketPath}"), tls.Invoker, timeout.Token);
        return socket;
    }

    private static async Task CloseAsync(ClientWebSocket socket)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
        }
        finally
        {
            socket.Dispose();
        }
    }
}
