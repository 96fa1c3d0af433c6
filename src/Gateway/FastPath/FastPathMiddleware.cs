using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Gateway.Auth;
using Gateway.Configuration;
using Gateway.Diagnostics;
using Gateway.Errors;
using Gateway.Forwarding;
using Gateway.Telemetry;
using Gateway.Tls;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.Options;

namespace Gateway.FastPath;

/// <summary>
/// Kestrel connection middleware that serves the plainest HTTP/1.1 requests itself (what
/// <see cref="FastPathAdmission"/> takes): the head is parsed once by <see cref="Http1RequestHead"/>, the
/// workspace's head written by <see cref="WorkspaceRequestHead"/> onto a pooled raw socket, and the answer relayed
/// as framed with only its head rewritten (<see cref="ClientResponseHead"/>), each read flushed at once. The first
/// request it does not take, and everything after it on that connection, goes to Kestrel untouched: the bytes stay
/// in the connection's buffer and Kestrel reads them as if it had been first, so a request is only ever parsed as
/// one thing by one parser (RFC 9112 §11.2). A workspace that cannot be reached, answers nothing in time, or
/// answers in a form the fast path does not relay (an interim 1xx, HTTP/1.0, a body ended by closing) leaves the
/// request to the YARP way too, before a byte reaches the client.
/// </summary>
internal sealed partial class FastPathMiddleware : IDisposable
{
    private const int RelayChunk = 16 * 1024;

    private readonly FastPathAdmission _admission;
    private readonly WorkspaceConnections _workspaces;
    private readonly FastPathTimeouts _timeouts;
    private readonly AccessTokens _tokens;
    private readonly TrustedProxies _proxies;
    private readonly HttpDate _date;
    private readonly byte[] _hsts;
    private readonly Http1HeadLimits _limits;
    private readonly GatewayMetrics _metrics;
    private readonly OpenTunnels _tunnels;
    private readonly TunnelRelay _relay;
    private readonly LogBudget _failureLogs;
    private readonly ILogger<FastPathMiddleware> _logger;

    public FastPathMiddleware(
        IOptions<GatewayOptions> options,
        IOptions<KestrelServerOptions> kestrel,
        FastPathAdmission admission,
        AccessTokens tokens,
        TrustedProxies proxies,
        StrictTransportSecurity hsts,
        GatewayMetrics metrics,
        OpenTunnels tunnels,
        TunnelRelay relay,
        TimeProvider time,
        ILogger<FastPathMiddleware> logger)
    {
        var forwarding = options.Value.Forwarding;
        _admission = admission;
        _tokens = tokens;
        _proxies = proxies;
        _metrics = metrics;
        _tunnels = tunnels;
        _relay = relay;
        _logger = logger;
        _failureLogs = LogBudget.PerSecond(time);
        _limits = Http1HeadLimits.From(options.Value.Limits);
        _date = new HttpDate(time);
        _hsts = hsts.Value is { } value ? Encoding.ASCII.GetBytes(value) : [];

        // SocketsHttpHandler's default for its pool: a minute idle, then closed. Checked before reuse after a second
        // idle: code-server (Node) closes an idle connection after 5 s.
        _workspaces = new WorkspaceConnections(time, forwarding.ConnectTimeout, TimeSpan.FromMinutes(1), maxIdlePerAddress: 256, checkAfter: TimeSpan.FromSeconds(1));
        _timeouts = new FastPathTimeouts(time, kestrel.Value.Limits.KeepAliveTimeout, kestrel.Value.Limits.RequestHeadersTimeout, forwarding.HttpActivityTimeout);
    }

    /// <summary>Sockets to workspaces the fast path holds now, idle or in use.</summary>
    public int OpenWorkspaceConnections => _workspaces.Open;

    public async Task OnConnectionAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        // HTTP/2 (by ALPN) is Kestrel's, and so is a listener that is not TCP.
        var alpn = connection.Features.Get<ITlsApplicationProtocolFeature>()?.ApplicationProtocol ?? default;
        var peer = connection.RemoteEndPoint as IPEndPoint;
        if ((!alpn.IsEmpty && !alpn.Span.SequenceEqual("http/1.1"u8)) || peer is null)
        {
            await next(connection);
            return;
        }

        var https = connection.Features.Get<ITlsHandshakeFeature>() is not null;
        var client = new Client(peer.Address, Encoding.ASCII.GetBytes(peer.Address.ToString()), https);
        var input = connection.Transport.Input;
        var output = connection.Transport.Output;
        using var watch = _timeouts.Watch(connection);
        using var buffers = new ExchangeBuffers();
        KestrelBehind? kestrel = null;
        try
        {
            // A head that came in part, and since when the rest is awaited.
            var partial = false;
            while (true)
            {
                if (!partial)
                {
                    watch.WaitForRequest();
                }

                if (watch.Closing)
                {
                    return;
                }

                ReadResult read;
                try
                {
                    read = await input.ReadAsync();
                }
                catch (Exception ex) when (ex is IOException or ConnectionResetException or ConnectionAbortedException)
                {
                    return;
                }

                var buffer = read.Buffer;
                if (buffer.IsEmpty)
                {
                    input.AdvanceTo(buffer.Start);
                    if (read.IsCompleted || read.IsCanceled)
                    {
                        return;
                    }

                    continue;
                }

                var plan = read.IsCanceled ? default : PlanFor(buffer, client, buffers);
                if (plan.NeedsMore && !read.IsCompleted)
                {
                    // A head split across reads (a TCP segment is 1,448 bytes on most networks): read on, within
                    // Kestrel's time for a whole head from its first byte. Past it the connection is Kestrel's, whose
                    // own timeout then runs once more before its 408: a slow client gets twice the time, not more.
                    input.AdvanceTo(buffer.Start, buffer.End);
                    if (!partial)
                    {
                        watch.ReadHead();
                        partial = true;
                    }

                    continue;
                }

                partial = false;
                Step step;
                if (plan.Head is null)
                {
                    // A handshake it does not take is Kestrel's with the rest of the connection, which it may become a tunnel of.
                    step = plan.RequestLength > 0 && !plan.IsWebSocket ? Step.ToKestrel(plan) : Step.HandOver;
                }
                else
                {
                    // The exchange is written out here rather than in methods of its own: one state machine per
                    // connection then serves all its requests, where an async method per request allocated its box
                    // each time (64 requests waiting on their workspaces at once outrun the builders' caches).
                    var route = plan.Route!;
                    var answer = buffers.Answer;
                    var outcome = Outcome.ToKestrel;

                    // A WebSocket is a tunnel from its handshake on, as the YARP way counts it: closed with the reason
                    // when its route changes or the gateway stops. None is opened once the gateway is stopping, and the
                    // YARP way answers it.
                    var lease = plan.IsWebSocket ? _tunnels.TryOpen(route, connection.Abort, isWebSocket: true) : null;
                    var tunnelRefused = plan.IsWebSocket && lease is null;

                    // A pooled connection the workspace closed just as it was taken fails at once and says nothing
                    // about the workspace: the request is sent again on a new one, as SocketsHttpHandler does.
                    Socket? socket = null;
                    var pooled = !tunnelRefused && _workspaces.TryRentIdle(route.Address, out socket);
                    try
                    {
                        var filled = 0;
                        string? unreachable = null;
                        while (!tunnelRefused)
                        {
                            if (socket is null)
                            {
                                try
                                {
                                    socket = await _workspaces.ConnectAsync(route.Address, connection.ConnectionClosed);
                                }
                                catch (Exception ex) when (ex is SocketException or OperationCanceledException)
                                {
                                    unreachable = ex.Message;
                                    break;
                                }
                            }

                            watch.WaitForAnswer(socket);
                            try
                            {
                                await socket.SendAsync(plan.Head.AsMemory(0, plan.HeadLength), SocketFlags.None);
                                filled = await socket.ReceiveAsync(answer, SocketFlags.None);
                            }
                            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
                            {
                                filled = 0;
                            }

                            if (filled > 0 || !pooled || watch.TimedOut)
                            {
                                break;
                            }

                            watch.Release(socket);
                            _workspaces.Close(socket);
                            socket = null;
                            pooled = false;
                        }

                        if (tunnelRefused)
                        {
                            outcome = Outcome.ToKestrel;
                        }
                        else if (unreachable is not null || filled <= 0)
                        {
                            outcome = watch.TimedOut
                                ? HandOverFailed(connection, GatewayProblem.WorkspaceTimeout, route, "no answer within the activity timeout")
                                : HandOverFailed(connection, GatewayProblem.WorkspaceUnreachable, route, unreachable ?? "the workspace closed the connection without answering");
                        }
                        else
                        {
                            Http1ResponseHead head;
                            HeadParse parsed;
                            while ((parsed = Http1ResponseHead.TryParse(answer.AsSpan(0, filled), plan.IsHead, out head, plan.IsWebSocket)) == HeadParse.NeedMore)
                            {
                                if (filled == answer.Length && buffers.TryGrowAnswer(filled))
                                {
                                    answer = buffers.Answer;
                                }

                                var more = 0;
                                if (filled < answer.Length)
                                {
                                    try
                                    {
                                        more = await socket!.ReceiveAsync(answer.AsMemory(filled), SocketFlags.None);
                                    }
                                    catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
                                    {
                                    }
                                }

                                if (more <= 0)
                                {
                                    break;
                                }

                                filled += more;
                            }

                            var written = parsed == HeadParse.Taken ? WriteClientHead(output, answer.AsSpan(0, filled), head, plan.Https) : -1;
                            if (written < 0)
                            {
                                // Not an answer the fast path relays as it came: the YARP way sends the request again
                                // (GET and HEAD are safe to repeat, RFC 9110 §9.2.2) and answers as it always has.
                                outcome = watch.TimedOut
                                    ? HandOverFailed(connection, GatewayProblem.WorkspaceTimeout, route, "no whole answer within the activity timeout")
                                    : Outcome.ToKestrel;
                            }
                            else if (head.IsSwitching)
                            {
                                // The connection is a tunnel now, to its end: what came after the 101 goes on first, and
                                // what the client sent after its handshake is still in the input for the relay.
                                input.AdvanceTo(buffer.GetPosition(plan.RequestLength));
                                output.Advance(written);
                                var received = answer.AsSpan(head.Length, filled - head.Length).ToArray();
                                route.MarkUsed();
                                _metrics.FastPathRequest();
                                if (watch.Release(socket!))
                                {
                                    watch.InTunnel();
                                    var tunnel = socket!;
                                    socket = null;
                                    buffers.Dispose();
                                    await RelayTunnelAsync(connection, tunnel, lease!.Value.Tunnel, received);
                                }

                                outcome = Outcome.Ended;
                            }
                            else
                            {
                                // The answer is the client's now: its request is consumed, and none of it can go the
                                // YARP way any more.
                                input.AdvanceTo(buffer.GetPosition(plan.RequestLength));
                                output.Advance(written);
                                route.MarkUsed();
                                _metrics.FastPathRequest();
                                watch.Relay();

                                // The body as framed. What came with the head first; bytes past the body's end (a
                                // body on a 304, more than the length said) are no request's answer: they are not
                                // relayed, and the connection is not used again.
                                var remaining = head.ContentLength;
                                var chunks = default(ChunkedBodyScanner);
                                var received = filled - head.Length;
                                var take = Take(head.Framing, answer.AsSpan(head.Length, received), ref remaining, ref chunks, out var done);
                                var body = Body.Broken;
                                if (take >= 0)
                                {
                                    var overrun = take != received;
                                    output.Write(answer.AsSpan(head.Length, take));
                                    while (true)
                                    {
                                        var flushed = await output.FlushAsync();
                                        if (flushed.IsCompleted || flushed.IsCanceled)
                                        {
                                            body = Body.ClientGone;
                                            break;
                                        }

                                        if (done)
                                        {
                                            body = overrun ? Body.WholeWithMore : Body.Whole;
                                            break;
                                        }

                                        watch.Progress();
                                        var memory = output.GetMemory(RelayChunk);
                                        if (head.Framing == BodyFraming.ContentLength && remaining < memory.Length)
                                        {
                                            memory = memory[..(int)remaining];
                                        }

                                        received = 0;
                                        try
                                        {
                                            received = await socket!.ReceiveAsync(memory, SocketFlags.None);
                                        }
                                        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
                                        {
                                        }

                                        take = received == 0 ? -1 : Take(head.Framing, memory.Span[..received], ref remaining, ref chunks, out done);
                                        if (take < 0)
                                        {
                                            break;
                                        }

                                        overrun = take != received;
                                        output.Advance(take);
                                        watch.Progress();
                                    }
                                }

                                if (body == Body.Whole && head.KeepAlive && watch.Release(socket!))
                                {
                                    _workspaces.Return(route.Address, socket!);
                                    socket = null;
                                }

                                if (body is Body.Whole or Body.WholeWithMore)
                                {
                                    outcome = Outcome.Served;
                                }
                                else
                                {
                                    // A message cut short cannot be ended any other way in HTTP/1.1 (RFC 9112 §9.6).
                                    connection.Abort(new ConnectionAbortedException("The workspace's answer ended before its body did."));
                                    outcome = Outcome.Ended;
                                }
                            }
                        }
                    }
                    finally
                    {
                        if (socket is not null)
                        {
                            watch.Release(socket);
                            _workspaces.Close(socket);
                        }

                        lease?.Dispose();
                    }

                    // A handshake the fast path did not carry through is the YARP way's with the rest of the connection:
                    // the answer to it may make the connection a tunnel.
                    step = outcome != Outcome.ToKestrel ? new Step(outcome, 0, false) : plan.IsWebSocket ? Step.HandOver : Step.ToKestrel(plan);
                }

                switch (step.Outcome)
                {
                    case Outcome.Served:
                        continue;
                    case Outcome.Ended:
                        return;
                    case Outcome.ToKestrel:
                        // One bodiless request for Kestrel; the next one is read here again.
                        kestrel ??= KestrelBehind.Start(connection, next);
                        watch.ServedByKestrel();
                        var head = buffer.Slice(0, step.RequestLength);
                        kestrel.Write(head);
                        input.AdvanceTo(head.End);
                        var relay = await kestrel.ServeAsync(step.IsHead, output, watch);
                        if (relay == KestrelBehind.Relay.Whole)
                        {
                            continue;
                        }

                        if (relay == KestrelBehind.Relay.Unframed)
                        {
                            await kestrel.PumpAsync(input, output);
                        }

                        return;
                    default:
                        // Kestrel reads the request from its first byte, as if it had been first: on the connection
                        // itself, or through the pipes when it already serves this connection there.
                        input.AdvanceTo(buffer.Start);
                        buffers.Dispose();
                        if (kestrel is null)
                        {
                            await next(connection);
                        }
                        else
                        {
                            await kestrel.PumpAsync(input, output);
                        }

                        return;
                }
            }
        }
        finally
        {
            if (kestrel is not null)
            {
                await kestrel.DisposeAsync();
            }
        }
    }

    public void Dispose()
    {
        _timeouts.Dispose();
        _workspaces.Dispose();
    }

    // After the 101 has gone out: the relay the YARP way uses, on the client connection's two halves.
    private async Task RelayTunnelAsync(ConnectionContext connection, Socket socket, OpenTunnels.Tunnel tunnel, byte[] received)
    {
        try
        {
            var output = connection.Transport.Output;
            var flushed = await output.FlushAsync();
            if (!flushed.IsCompleted && !flushed.IsCanceled)
            {
                await _relay.RelayAsync(
                    connection.Transport.Input.AsStream(leaveOpen: true), output.AsStream(leaveOpen: true), new NetworkStream(socket, ownsSocket: true), tunnel, received);
            }
        }
        finally
        {
            _workspaces.Close(socket);
        }
    }

    // The synchronous part, while the request's bytes are a span: parse, admit, and write the workspace's head.
    // A head outside the strict subset has no length here (RequestLength 0); one in it but not admitted, no Head.
    private Plan PlanFor(ReadOnlySequence<byte> buffer, Client client, ExchangeBuffers buffers)
    {
        byte[]? copy = null;
        ReadOnlySpan<byte> bytes;
        if (buffer.IsSingleSegment)
        {
            bytes = buffer.FirstSpan;
        }
        else
        {
            var length = (int)Math.Min(buffer.Length, _limits.MaxHeadBytes);
            copy = ArrayPool<byte>.Shared.Rent(length);
            buffer.Slice(0, length).CopyTo(copy);
            bytes = copy.AsSpan(0, length);
        }

        try
        {
            var parsed = Http1RequestHead.TryParse(bytes, _limits, out var head);
            if (parsed != HeadParse.Taken)
            {
                return new Plan { NeedsMore = parsed == HeadParse.NeedMore };
            }

            try
            {
                var bodiless = new Plan(null, 0, head.Length, head.IsHead, head.IsWebSocket, client.Https, null);

                // A load balancer's word on the client is taken as the YARP way takes it (asked per request, as the
                // trusted networks may be reloaded): the scheme it reports names the session cookie on an own origin.
                var trusted = _proxies.Trusts(client.Peer);
                var clientHttps = client.Https
                    || (trusted && Ascii.EqualsIgnoreCase(WorkspaceRequestHead.FirstForwarded(bytes, head, "x-forwarded-proto"u8), "https"u8));
                if (!_admission.TryAdmit(bytes, head, clientHttps, out var target))
                {
                    return bodiless;
                }

                var workspaceHead = buffers.Head(head.Length + 512);
                var from = new ForwardedFrom(client.Address, client.Https, target.PrefixLength, _tokens.Options.CookieName, trusted);
                var written = WorkspaceRequestHead.Write(bytes, head, from, workspaceHead);
                if (written < 0)
                {
                    return bodiless;
                }

                return bodiless with { Head = workspaceHead, HeadLength = written, Route = target.Route };
            }
            finally
            {
                head.Return();
            }
        }
        finally
        {
            if (copy is not null)
            {
                ArrayPool<byte>.Shared.Return(copy);
            }
        }
    }

    // The client's head for the workspace's answer, written into the output without committing it; -1 when it does
    // not fit.
    private int WriteClientHead(PipeWriter output, ReadOnlySpan<byte> answer, in Http1ResponseHead head, bool https)
    {
        var relayed = new RelayedAnswer(_tokens.Options.CookieName, https ? _hsts : [], _date.Now);
        return ClientResponseHead.Write(answer, head, relayed, output.GetSpan(head.Length + 512));
    }

    // How much of bytes belongs to the body; -1 when they break its framing.
    private static int Take(BodyFraming framing, ReadOnlySpan<byte> bytes, ref long remaining, ref ChunkedBodyScanner chunks, out bool done)
    {
        switch (framing)
        {
            case BodyFraming.ContentLength:
                var take = (int)Math.Min(remaining, bytes.Length);
                remaining -= take;
                done = remaining == 0;
                return take;
            case BodyFraming.Chunked:
                var status = chunks.Scan(bytes, out var consumed);
                done = status == OperationStatus.Done;
                return status == OperationStatus.InvalidData ? -1 : consumed;
            default:
                done = true;
                return 0;
        }
    }

    private Outcome HandOverFailed(ConnectionContext connection, GatewayProblem problem, Routing.WorkspaceRoute route, string reason)
    {
        if (_failureLogs.TryTake(out var suppressed))
        {
            LogForwardingFailed(route.Sid, route.Address, problem.Code, reason, suppressed);
        }

        connection.Features.Set(new HandedOverFailure(problem, route.Sid));
        return Outcome.ToKestrel;
    }

    private readonly record struct Client(IPAddress Peer, byte[] Address, bool Https);

    /// <summary>
    /// A request in the strict subset (<see cref="RequestLength"/> bytes of head), and when the fast path forwards it,
    /// the workspace's head (in the connection's <see cref="ExchangeBuffers"/>) and route.
    /// </summary>
    private readonly record struct Plan(byte[]? Head, int HeadLength, int RequestLength, bool IsHead, bool IsWebSocket, bool Https, Routing.WorkspaceRoute? Route)
    {
        /// <summary>Not a whole head yet, and one that may still be taken once it is.</summary>
        public bool NeedsMore { get; init; }
    }

    private readonly record struct Step(Outcome Outcome, int RequestLength, bool IsHead)
    {
        public static Step HandOver => new(Outcome.HandOver, 0, false);

        public static Step ToKestrel(Plan plan) => new(Outcome.ToKestrel, plan.RequestLength, plan.IsHead);
    }

    private enum Outcome
    {
        /// <summary>Forwarded and answered; the next request is read here.</summary>
        Served,

        /// <summary>A bodiless request in the strict subset, for Kestrel behind the fast path.</summary>
        ToKestrel,

        /// <summary>Anything else: the rest of the connection is Kestrel's.</summary>
        HandOver,

        /// <summary>The connection is over.</summary>
        Ended,
    }

    private enum Body
    {
        Whole,

        /// <summary>Whole, and the workspace sent more after it: the connection to it cannot be used again.</summary>
        WholeWithMore,

        Broken,
        ClientGone,
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Forwarding to workspace {Sid} at {Address} failed: {Problem} ({Reason}) ({Suppressed} similar lines suppressed before this one)")]
    private partial void LogForwardingFailed(string sid, string address, string problem, string reason, long suppressed);
}
