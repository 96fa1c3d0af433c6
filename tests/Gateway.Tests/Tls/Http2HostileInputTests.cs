using System.Net;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Tls;

/// <summary>
/// What an HTTP/2 client can do that no browser does: each gets a clear refusal at the protocol level or a 4xx,
/// never a 5xx of ours, and a well-behaved connection beside it is served throughout.
/// </summary>
public sealed class Http2HostileInputTests(GatewayOnTls env) : IClassFixture<GatewayOnTls>
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(10);

    private IPEndPoint Endpoint => new(IPAddress.Loopback, env.Gateway.Address.Port);

    [Fact]
    public async Task A_rapid_reset_flood_is_cut_off_while_another_connection_is_served()
    {
        var sid = await env.RouteCachedAsync(env.A);
        await using var attacker = await RawHttp2Connection.OpenAsync(Endpoint, env.Certificates, GatewayOnTls.PlatformName);
        using var neighbour = Http2Client();
        using var stop = new CancellationTokenSource();
        var neighbourStatuses = new List<HttpStatusCode>();
        var answered = 0;
        var served = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var response = await neighbour.GetAsync(new Uri($"/ws/{sid}/neighbour", UriKind.Relative));
                lock (neighbourStatuses)
                {
                    neighbourStatuses.Add(response.StatusCode);
                }

                Interlocked.Increment(ref answered);
            }
        });

        // The neighbour's connection is up before the flood starts, and is asked again after it is cut off:
        // Kestrel can end the flood within milliseconds, sooner than one neighbour request takes.
        await Eventually.TrueAsync(() => Volatile.Read(ref answered) > 0, "the neighbour is answered");

        // CVE-2023-44487: a request opened and cancelled at once, thousands of times, each leaving work behind.
        var streamId = 1;
        var sent = 0;
        while (!attacker.Closed.IsCompleted && sent < 50_000)
        {
            var burst = new List<(byte, byte, int, byte[])>();
            for (var i = 0; i < 500; i++, streamId += 2)
            {
                burst.Add((Http2Frame.Headers, 0x5, streamId, RawHttp2Connection.Encode(RawHttp2Connection.Get($"/ws/{sid}/slow"))));
                burst.Add((Http2Frame.RstStream, 0, streamId, [0, 0, 0, (byte)RawHttp2Connection.Cancel]));
            }

            try
            {
                await attacker.SendBurstAsync(burst);
            }
            catch (IOException)
            {
                break;
            }

            sent += 500;
        }

        var goAway = await attacker.NextAsync(frame => frame.Type == Http2Frame.GoAway, Within);
        await attacker.Closed.WaitAsync(Within);
        var answeredAtCutOff = Volatile.Read(ref answered);
        await Eventually.TrueAsync(() => Volatile.Read(ref answered) > answeredAtCutOff, "the neighbour is answered after the flood");
        await stop.CancelAsync();
        await served;

        // Cut off by the server, well before the attacker was done. Kestrel does it one of two ways, whichever
        // comes first: too many reset streams still at work (GOAWAY ENHANCE_YOUR_CALM), or too many frames of
        // its own queued for a client that keeps sending (INTERNAL_ERROR, the connection aborted; its GOAWAY
        // can be lost with the reset, so a closed connection counts too).
        Assert.True(sent < 50_000, "the flood went on unchecked for 50,000 streams");
        if (goAway is not null)
        {
            Assert.Contains(goAway.ErrorCode, new[] { RawHttp2Connection.EnhanceYourCalm, RawHttp2Connection.InternalError });
        }

        Assert.NotEmpty(neighbourStatuses);
        Assert.All(neighbourStatuses, status => Assert.Equal(HttpStatusCode.OK, status));
    }

    [Fact]
    public async Task Streams_beyond_the_concurrency_limit_are_refused_one_by_one_and_the_connection_stays()
    {
        var sid = await env.RouteCachedAsync(env.A);
        await using var client = await RawHttp2Connection.OpenAsync(Endpoint, env.Certificates, GatewayOnTls.PlatformName);

        // 100 is the configured SETTINGS_MAX_CONCURRENT_STREAMS; /slow keeps each open for 5 s.
        await client.SendBurstAsync(Enumerable.Range(0, 105).Select(i =>
            (Http2Frame.Headers, (byte)0x5, 1 + (2 * i), RawHttp2Connection.Encode(RawHttp2Connection.Get($"/ws/{sid}/slow")))));

        var refused = await client.NextAsync(frame => frame.Type is Http2Frame.RstStream or Http2Frame.GoAway, Within);
        Assert.NotNull(refused);
        Assert.Equal((Http2Frame.RstStream, RawHttp2Connection.RefusedStream), (refused.Type, refused.ErrorCode));
        Assert.True(refused.StreamId > 1 + (2 * 99), $"stream {refused.StreamId}, within the limit, was refused");

        await client.SendHeadersAsync(1001, RawHttp2Connection.Get("/healthz"));
        Assert.False(client.Closed.IsCompleted);
    }

    // RFC 9113 §8.1.1 allows a stream error; Kestrel ends the whole connection (GOAWAY PROTOCOL_ERROR). Either
    // way only the sender's connection: another one is served.
    [Theory]
    [InlineData("unknown pseudo-header", ":foo", "bar")]
    [InlineData("upper-case name", "X-Upper", "1")]
    [InlineData("connection-specific header", "connection", "keep-alive")]
    [InlineData("pseudo-header after a field", "x-first", "1")]
    public async Task A_malformed_request_is_a_protocol_error_for_its_connection_alone(string what, string name, string value)
    {
        var sid = await env.RouteCachedAsync(env.A);
        using var neighbour = Http2Client();
        using var before = await neighbour.GetAsync(new Uri($"/ws/{sid}/before", UriKind.Relative));
        await using var client = await RawHttp2Connection.OpenAsync(Endpoint, env.Certificates, GatewayOnTls.PlatformName);
        (string, string)[] headers = what == "pseudo-header after a field"
            ? [(":method", "GET"), (":scheme", "https"), (name, value), (":authority", "gateway.test"), (":path", "/healthz")]
            : [.. RawHttp2Connection.Get("/healthz"), (name, value)];

        await client.SendHeadersAsync(1, headers);
        var refused = await client.NextAsync(frame => frame.StreamId == 1 || frame.Type == Http2Frame.GoAway, Within);

        Assert.NotNull(refused);
        Assert.True(refused.Type is Http2Frame.RstStream or Http2Frame.GoAway, $"{what}: frame type {refused.Type}");
        Assert.Equal(RawHttp2Connection.ProtocolError, refused.ErrorCode);
        using var after = await neighbour.GetAsync(new Uri($"/ws/{sid}/after", UriKind.Relative));
        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (before.StatusCode, after.StatusCode));
    }

    [Fact]
    public async Task A_request_without_a_path_is_a_protocol_error()
    {
        await using var client = await RawHttp2Connection.OpenAsync(Endpoint, env.Certificates, GatewayOnTls.PlatformName);

        await client.SendHeadersAsync(1, [(":method", "GET"), (":scheme", "https"), (":authority", "gateway.test")]);

        var refused = await client.NextAsync(frame => frame.StreamId == 1 || frame.Type == Http2Frame.GoAway, Within);
        Assert.Equal(RawHttp2Connection.ProtocolError, refused?.ErrorCode);
    }

    // The gateway is no forward proxy: a plain CONNECT, or an extended CONNECT for anything but a WebSocket,
    // is refused before any workspace or the web API is asked.
    [Theory]
    [InlineData(null)]
    [InlineData("connect-udp")]
    [InlineData("webtransport")]
    public async Task A_connect_that_is_not_a_websocket_is_refused_with_400(string? protocol)
    {
        var sid = await env.RouteCachedAsync(env.A);
        var before = env.A.Requests;
        await using var client = await RawHttp2Connection.OpenAsync(Endpoint, env.Certificates, GatewayOnTls.PlatformName);
        (string, string)[] headers = protocol is null
            ? [(":method", "CONNECT"), (":authority", $"127.0.0.1:{env.A.Address.Split(':')[1]}")]
            : [(":method", "CONNECT"), (":protocol", protocol), (":scheme", "https"), (":authority", "gateway.test"), (":path", $"/ws/{sid}/socket")];

        await client.SendHeadersAsync(1, headers, endStream: false);

        var answer = await client.NextAsync(frame => frame.StreamId == 1, Within);
        Assert.Equal((Http2Frame.Headers, 400), (answer?.Type, answer?.StaticStatus));
        Assert.Equal(before, env.A.Requests);
    }

    [Fact]
    public async Task Headers_beyond_the_total_limit_get_431_and_one_field_beyond_its_limit_ends_only_that_connection()
    {
        var sid = await env.RouteCachedAsync(env.A);
        using var client = Http2Client();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/ws/{sid}/big");
        for (var i = 0; i < 10; i++)
        {
            request.Headers.Add($"x-filler-{i}", new string('a', 8 * 1024));
        }

        using var tooMany = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, tooMany.StatusCode);

        await using var raw = await RawHttp2Connection.OpenAsync(Endpoint, env.Certificates, GatewayOnTls.PlatformName);
        await raw.SendHeadersAsync(1, [.. RawHttp2Connection.Get($"/ws/{sid}/big"), ("x-huge", new string('a', 20 * 1024))]);
        var refused = await raw.NextAsync(frame => frame.StreamId == 1 || frame.Type == Http2Frame.GoAway, Within);

        // Kestrel's HPACK decoder will not hold a field past the limit: a decoding failure, which ends that
        // connection (RFC 9113 §4.3: a field block that cannot be decompressed is a COMPRESSION_ERROR).
        Assert.NotNull(refused);
        Assert.Equal((Http2Frame.GoAway, RawHttp2Connection.CompressionError), (refused.Type, refused.ErrorCode));

        using var after = await client.GetAsync(new Uri($"/ws/{sid}/after", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    private HttpClient Http2Client() => new(env.Gateway.CreateHandler())
    {
        BaseAddress = env.Gateway.Address,
        DefaultRequestVersion = HttpVersion.Version20,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
    };
}
