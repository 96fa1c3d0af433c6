using System.Diagnostics;
using System.IO.Hashing;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using Bench.Load;
using Bench.Servers;

namespace Bench.Faults;

/// <summary>How much editor-like traffic: sockets and their message pace, page clients and their pause.</summary>
internal sealed record TrafficShape(int WebSockets, TimeSpan MessageInterval, int PageClients, TimeSpan PagePause);

/// <summary>
/// What many open editors send through the load balancer, kept up until stopped: WebSockets exchanging small
/// messages at a steady pace (each reconnects at once when its socket ends, as the editor does), and page
/// clients loading small pages, now and then a large one, and uploading. Every answer is checked, not just its
/// status: an echo must be the message sent, a page its file, an upload must arrive whole.
/// </summary>
internal sealed class EditorTraffic : IAsyncDisposable
{
    private const string ReplicaHeader = "X-Served-By";
    private const int UploadBytes = 256 * 1024;
    private static readonly TimeSpan EchoPatience = TimeSpan.FromSeconds(5);

    private readonly int _port;
    private readonly TrafficShape _shape;
    private readonly TrafficRecorder _recorder;
    private readonly CancellationTokenSource _stop = new();
    private readonly ulong _largePageHash;
    private readonly Task _running;
    private int _open;

    private EditorTraffic(int port, TrafficShape shape, TrafficRecorder recorder)
    {
        _port = port;
        _shape = shape;
        _recorder = recorder;
        var large = BenchStack.LargeBodies[0];
        _largePageHash = XxHash64.HashToUInt64(BenchStack.LargeBody(large.Bytes));
        _running = Task.WhenAll(
            Task.WhenAll(Enumerable.Range(0, shape.WebSockets).Select(i => Task.Run(() => EditorAsync(i)))),
            Task.WhenAll(Enumerable.Range(0, shape.PageClients).Select(i => Task.Run(() => PagesAsync(i)))));
    }

    /// <summary>Editors' WebSockets open right now.</summary>
    public int OpenWebSockets => Volatile.Read(ref _open);

    public static EditorTraffic Start(int balancerPort, TrafficShape shape, TrafficRecorder recorder) => new(balancerPort, shape, recorder);

    /// <summary>Waits until every editor has its socket open (after a start or a fault); false if that took longer than <paramref name="timeout"/>.</summary>
    public async Task<bool> AllOpenAsync(TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (OpenWebSockets < _shape.WebSockets)
        {
            if (deadline.Elapsed > timeout)
            {
                return false;
            }

            await Task.Delay(20);
        }

        return true;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _running;
        _stop.Dispose();
    }

    private async Task EditorAsync(int index)
    {
        var random = new Random(index);
        var payload = new byte[64];
        var echo = new byte[1024];
        double? droppedAt = null;
        string droppedFrom = "", how = "";
        await Pause(TimeSpan.FromMilliseconds(random.Next((int)_shape.MessageInterval.TotalMilliseconds)));
        while (!_stop.IsCancellationRequested)
        {
            ClientWebSocket socket;
            string replica;
            try
            {
                (socket, replica) = await ConnectAsync();
            }
            catch (Exception ex) when (ex is WebSocketException or HttpRequestException or OperationCanceledException)
            {
                if (!_stop.IsCancellationRequested)
                {
                    _recorder.WebSocketOpenRefused();
                    await Pause(TimeSpan.FromMilliseconds(100));
                }

                continue;
            }

            if (droppedAt is { } at)
            {
                _recorder.Disconnected(new Disconnect(at, droppedFrom, how, (_recorder.Elapsed - at) * 1000, replica));
                droppedAt = null;
            }

            _recorder.WebSocketOpened();
            Interlocked.Increment(ref _open);
            try
            {
                if (await ExchangeAsync(socket, replica, random, payload, echo) is { } ended)
                {
                    (droppedAt, droppedFrom, how) = (_recorder.Elapsed, replica, ended);
                }
            }
            finally
            {
                Interlocked.Decrement(ref _open);
                socket.Dispose();
            }
        }

        if (droppedAt is { } never)
        {
            _recorder.Disconnected(new Disconnect(never, droppedFrom, how, null, null));
        }
    }

    /// <summary>Messages at the editor's pace until the socket ends (how, returned) or the traffic stops (null).</summary>
    private async Task<string?> ExchangeAsync(ClientWebSocket socket, string replica, Random random, byte[] payload, byte[] echo)
    {
        // A receive is always pending, so a socket that ends is noticed when it ends, not at the next message.
        var receive = socket.ReceiveAsync(echo.AsMemory(), CancellationToken.None).AsTask();
        var interval = (int)_shape.MessageInterval.TotalMilliseconds;
        while (true)
        {
            var tick = Task.Delay(TimeSpan.FromMilliseconds(interval / 2 + random.Next(interval)), _stop.Token);
            if (await Task.WhenAny(tick, receive) == receive)
            {
                return Ended(socket, receive);
            }

            if (_stop.IsCancellationRequested)
            {
                await CloseAsync(socket, receive);
                return null;
            }

            random.NextBytes(payload);
            var sent = Stopwatch.GetTimestamp();
            try
            {
                await socket.SendAsync(payload, WebSocketMessageType.Binary, true, CancellationToken.None);
            }
            catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException)
            {
                return "reset";
            }

            if (await Task.WhenAny(receive, Task.Delay(EchoPatience)) != receive)
            {
                socket.Abort();
                return "hung";
            }

            if (receive.IsFaulted || receive.Result.MessageType == WebSocketMessageType.Close)
            {
                return Ended(socket, receive);
            }

            _recorder.WebSocketEcho(replica, LatencyRecorder.MicrosecondsSince(sent));
            if (!receive.Result.EndOfMessage || !echo.AsSpan(0, receive.Result.Count).SequenceEqual(payload))
            {
                _recorder.EchoCorrupted();
            }

            receive = socket.ReceiveAsync(echo.AsMemory(), CancellationToken.None).AsTask();
        }
    }

    private static string Ended(ClientWebSocket socket, Task<ValueWebSocketReceiveResult> receive) =>
        receive.IsCompletedSuccessfully && receive.Result.MessageType == WebSocketMessageType.Close && socket.CloseStatus is { } status
            ? ((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture)
            : receive.IsCompletedSuccessfully ? "unexpected message" : "reset";

    private static async Task CloseAsync(ClientWebSocket socket, Task<ValueWebSocketReceiveResult> receive)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
            await receive.WaitAsync(timeout.Token);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or TimeoutException)
        {
        }
    }

    private async Task<(ClientWebSocket Socket, string Replica)> ConnectAsync()
    {
        var path = $"/ws/{BenchStack.WebSocketSid}/";
        var socket = new ClientWebSocket();
        try
        {
            socket.Options.SetRequestHeader("Cookie", BenchCredentials.CookieFor(path));
            socket.Options.KeepAliveInterval = TimeSpan.Zero;
            socket.Options.CollectHttpResponseDetails = true;
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{_port}{path}"), timeout.Token);
            var replica = socket.HttpResponseHeaders?.TryGetValue(ReplicaHeader, out var values) == true ? values.First() : "?";
            socket.HttpResponseHeaders = null;
            return (socket, replica);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private async Task PagesAsync(int index)
    {
        using var handler = new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false, ConnectTimeout = TimeSpan.FromSeconds(5) };
        using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(15) };
        var upload = new byte[UploadBytes];
        new Random(index).NextBytes(upload);
        var uploadAnswer = $"stored {UploadBytes} {XxHash64.HashToUInt64(upload):x16}\n";
        await Pause(TimeSpan.FromMilliseconds(index * 7));
        for (var i = 0; !_stop.IsCancellationRequested; i++)
        {
            // Mostly small pages, every 20th a large one, every 40th an upload into the echo workspace.
            var kind = i % 40 == 39 ? Page.Upload : i % 20 == 9 ? Page.Large : Page.Small;
            await RequestAsync(client, kind, upload, uploadAnswer);
            await Pause(_shape.PagePause);
        }
    }

    private enum Page
    {
        Small,
        Large,
        Upload,
    }

    /// <summary>One request as a browser's page makes it: a GET whose connection was refused or reset is tried again; a clear retryable answer (502/503/504) is tried again after a pause.</summary>
    private async Task RequestAsync(HttpClient client, Page kind, byte[] upload, string uploadAnswer)
    {
        const int Attempts = 6;
        var started = Stopwatch.GetTimestamp();
        var retried = false;
        for (var attempt = 1; ; attempt++)
        {
            using var request = kind switch
            {
                Page.Upload => new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{_port}/ws/{BenchStack.WebSocketSid}/upload") { Content = new ByteArrayContent(upload) },
                Page.Large => new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{_port}/ws/{BenchStack.HttpSid}/bytes/{BenchStack.LargeBodies[0].Name}"),
                _ => new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{_port}/ws/{BenchStack.HttpSid}/"),
            };
            request.Headers.TryAddWithoutValidation("Cookie", BenchCredentials.CookieFor(request.RequestUri!.AbsolutePath));
            try
            {
                using var response = await client.SendAsync(request);
                var body = await response.Content.ReadAsByteArrayAsync();
                if (response.IsSuccessStatusCode)
                {
                    var whole = kind switch
                    {
                        Page.Upload => Encoding.ASCII.GetString(body) == uploadAnswer,
                        Page.Large => XxHash64.HashToUInt64(body) == _largePageHash,
                        _ => body.Length > 0,
                    };
                    _recorder.Request(!whole ? RequestOutcome.Failed : retried ? RequestOutcome.Retried : RequestOutcome.Succeeded, LatencyRecorder.MicrosecondsSince(started), corrupted: !whole);
                    return;
                }

                if (response.StatusCode is not (HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout))
                {
                    _recorder.Request(RequestOutcome.Failed, LatencyRecorder.MicrosecondsSince(started));
                    return;
                }

                if (attempt == Attempts || _stop.IsCancellationRequested)
                {
                    _recorder.Request(RequestOutcome.RetryableAnswer, LatencyRecorder.MicrosecondsSince(started));
                    return;
                }
            }
            catch (HttpRequestException) when (kind != Page.Upload && attempt < Attempts && !_stop.IsCancellationRequested)
            {
                // A browser sends a GET again when its connection was refused or reset before an answer.
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException)
            {
                _recorder.Request(RequestOutcome.Failed, LatencyRecorder.MicrosecondsSince(started));
                return;
            }

            retried = true;
            await Pause(TimeSpan.FromMilliseconds(200));
        }
    }

    private async Task Pause(TimeSpan delay)
    {
        try
        {
            await Task.Delay(delay, _stop.Token);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
