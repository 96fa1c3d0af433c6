using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Gateway.FastPath;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.FastPath;

/// <summary>
/// What the workspace gets for a request the fast path takes, against what it gets today through Kestrel, YARP and
/// the gateway's transformer: the same request line and the same fields with the same values, for browser-like
/// heads and their mutations, sent through a real gateway with tickets to a workspace that records the bytes.
/// </summary>
public sealed class WorkspaceRequestHeadDifferentialTests(YarpTicketGatewayWithBackends env) : IClassFixture<YarpTicketGatewayWithBackends>
{
    [Fact]
    public async Task The_workspace_gets_the_same_fields_and_values_from_the_fast_path_as_through_YARP()
    {
        await using var workspace = RecordingWorkspace.Start();
        var sid = await RouteAsync(workspace);
        var session = TestTickets.Session(sid);
        string[] bases =
        [
            $"GET /ws/{sid}/ HTTP/1.1\r\nHost: gateway.example.com\r\nUser-Agent: Mozilla/5.0\r\nAccept: text/html,*/*;q=0.8\r\nUpgrade-Insecure-Requests: 1\r\nCookie: theme=dark; gw_session={session};  z=1;\r\nConnection: keep-alive\r\n\r\n",
            $"GET /ws/{sid}/static/out/vs/loader.js?v=1.2&x=%20y HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nAccept: */*\r\nCookie: gw_session={session}\r\nX-Forwarded-For: 6.6.6.6\r\nForwarded: for=6.6.6.6\r\nKeep-Alive: 300\r\nAccept-Encoding: gzip, deflate, br\r\nReferer: http://127.0.0.1:8080/ws/{sid}/\r\n\r\n",
            $"GET /ws/{sid}/?reconnectionToken=abc&skipWebSocketFrames=false HTTP/1.1\r\nHost: gw.example.com\r\nConnection: Upgrade\r\nPragma: no-cache\r\nUser-Agent: Mozilla/5.0\r\nUpgrade: websocket\r\nOrigin: http://gw.example.com\r\nSec-WebSocket-Version: 13\r\nCookie: gw_session={session}\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n",
            $"GET /ws/{sid}/stable-1 HTTP/1.1\r\nHost: gw.example.com:8443\r\nSec-WebSocket-Version: 13\r\nOrigin: https://gw.example.com:8443\r\nSec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw==\r\nConnection: keep-alive, Upgrade\r\nCookie: gw_session={session}\r\nUpgrade: WebSocket\r\n\r\n",
            $"HEAD /ws/{sid}/api/items?page=2 HTTP/1.1\r\nHost: gw.example.com\r\nCookie: a=1;b=2; gw_session={session}\r\nX-Custom: one\r\nX-Custom: two\r\nIf-None-Match: \"abc\"\r\n\r\n",
        ];

        await CompareAsync(workspace, sid, bases, from: null, trustedProxy: false);
    }

    // A trusted load balancer (127.0.0.2 in this gateway's settings): its forwarding fields are extended, not replaced.
    [Fact]
    public async Task A_trusted_load_balancers_forwarding_fields_reach_the_workspace_as_through_YARP()
    {
        await using var workspace = RecordingWorkspace.Start();
        var sid = await RouteAsync(workspace);
        var session = TestTickets.Session(sid);
        string[] bases =
        [
            $"GET /ws/{sid}/a HTTP/1.1\r\nHost: gw.example.com\r\nX-Forwarded-For: 203.0.113.7\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: ide.example.com\r\nCookie: gw_session={session}\r\n\r\n",
            $"GET /ws/{sid}/b HTTP/1.1\r\nHost: gw.example.com\r\nX-Forwarded-For: 198.51.100.1, 203.0.113.7\r\nX-Forwarded-Proto: HTTPS , http\r\nX-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Host:  a.example ,b.example\r\nX-Forwarded-Host: c\r\nForwarded: for=1.2.3.4\r\nCookie: gw_session={session}\r\n\r\n",
            $"GET /ws/{sid}/c HTTP/1.1\r\nHost: gw.example.com\r\nX-Forwarded-For:\r\nX-Forwarded-For:\r\nX-Forwarded-Proto:\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: ,x\r\nCookie: gw_session={session}\r\n\r\n",
            $"GET /ws/{sid}/d HTTP/1.1\r\nHost: gw.example.com\r\nCookie: gw_session={session}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nX-Forwarded-For: 203.0.113.9\r\n\r\n",
        ];

        await CompareAsync(workspace, sid, bases, from: IPAddress.Parse("127.0.0.2"), trustedProxy: true);
    }

    private async Task<string> RouteAsync(RecordingWorkspace workspace)
    {
        var sid = "w" + Guid.NewGuid().ToString("N")[..12];
        await env.Writer.SetRouteAsync(sid, workspace.Address);
        await env.Writer.PublishAsync(sid);

        // The route cached first: a first lookup that misses its budget on a busy machine answers 503, and a head
        // skipped for it would not be compared.
        var warm = Encoding.ASCII.GetBytes($"GET /ws/{sid}/ HTTP/1.1\r\nHost: h\r\nCookie: gw_session={TestTickets.Session(sid)}\r\nConnection: close\r\n\r\n");
        await RedisSentinelGroup.WaitUntilAsync(
            async () => (await RawHttpExchange.SendAsync(env.Gateway.Address.Port, warm, TimeSpan.FromSeconds(5))).Statuses is [200, ..], "the route is cached", TimeSpan.FromSeconds(10));
        workspace.Forget();
        return sid;
    }

    private async Task CompareAsync(RecordingWorkspace workspace, string sid, string[] bases, IPAddress? from, bool trustedProxy)
    {
        var limits = Http1HeadLimits.From(new Gateway.Configuration.LimitsOptions());
        var peer = Encoding.ASCII.GetBytes((from ?? IPAddress.Loopback).ToString());
        var compared = 0;
        var failures = new List<string>();
        foreach (var request in RequestHeadCorpus.Generate(bases))
        {
            var bytes = Encoding.Latin1.GetBytes(request);
            if (Http1RequestHead.TryParse(bytes, limits, out var head) != HeadParse.Taken)
            {
                continue;
            }

            var buffer = new byte[64 * 1024];
            var written = WorkspaceRequestHead.Write(bytes, head, new ForwardedFrom(peer, https: false, prefixLength: sid.Length + 4, "gw_session", trustedProxy), buffer);
            head.Return();
            Assert.True(written > 0);
            var fastPath = Encoding.Latin1.GetString(buffer, 0, written);

            var exchange = await RawHttpExchange.SendAsync(env.Gateway.Address.Port, [.. bytes, .. "GET /ws/x/ HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"u8], TimeSpan.FromSeconds(5), from: from);
            if (exchange.Statuses.Count == 0 || exchange.Statuses[0] != 200)
            {
                // Refused by the gateway (a mutated cookie, say): what admits is not this test's matter.
                continue;
            }

            compared++;
            var throughYarp = await workspace.NextAsync();
            if (Normalized(throughYarp) != Normalized(fastPath))
            {
                failures.Add($"{HeadText.Show(request)}\n  YARP:      {HeadText.Show(Normalized(throughYarp))}\n  fast path: {HeadText.Show(Normalized(fastPath))}");
            }
        }

        Assert.True(failures.Count == 0, $"{failures.Count} of {compared} differ:\n" + string.Join("\n", failures.Take(8)));
        Assert.True(compared >= 25 * bases.Length, $"only {compared} heads compared");
    }

    // Request line, then each field name (case folded) with its values in order: HttpClient joins same-name fields
    // with ", " on one line (RFC 9110 §5.3), which means the same as separate lines.
    private static string Normalized(string head)
    {
        var lines = head.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        var fields = lines.Skip(1)
            .Select(line => (Name: line[..line.IndexOf(':', StringComparison.Ordinal)].ToLowerInvariant(), Value: line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim()))
            .GroupBy(f => f.Name)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => $"{g.Key}: {string.Join(", ", g.Select(f => f.Value))}");
        return lines[0] + "\n" + string.Join("\n", fields);
    }


    /// <summary>A workspace that records each request head it gets and answers it with an empty 200.</summary>
    private sealed class RecordingWorkspace : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly BlockingCollection<string> _heads = [];
        private readonly CancellationTokenSource _stop = new();
        private Task _serving = Task.CompletedTask;

        public string Address => $"127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

        public static RecordingWorkspace Start()
        {
            var workspace = new RecordingWorkspace();
            workspace._listener.Start();
            workspace._serving = workspace.AcceptAsync();
            return workspace;
        }

        /// <summary>Drops what was recorded so far.</summary>
        public void Forget()
        {
            while (_heads.TryTake(out _))
            {
            }
        }

        public Task<string> NextAsync() => Task.Run(() => _heads.TryTake(out var head, TimeSpan.FromSeconds(5)) ? head : "(nothing reached the workspace)");

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            await _serving.ContinueWith(_ => { }, TaskScheduler.Default);
            _stop.Dispose();
            _heads.Dispose();
        }

        private async Task AcceptAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                _ = ServeAsync(client);
            }
        }

        private async Task ServeAsync(TcpClient client)
        {
            using (client)
            {
                var stream = client.GetStream();
                var buffer = new byte[128 * 1024];
                var pending = "";
                try
                {
                    while (true)
                    {
                        var read = await stream.ReadAsync(buffer, _stop.Token);
                        if (read == 0)
                        {
                            return;
                        }

                        pending += Encoding.Latin1.GetString(buffer, 0, read);
                        int end;
                        while ((end = pending.IndexOf("\r\n\r\n", StringComparison.Ordinal)) >= 0)
                        {
                            _heads.Add(pending[..(end + 4)]);
                            pending = pending[(end + 4)..];
                            await stream.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"u8.ToArray(), _stop.Token);
                        }
                    }
                }
                catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
                {
                }
            }
        }
    }
}
