using System.Text;
using Gateway.FastPath;

namespace Gateway.Tests.FastPath;

/// <summary>
/// How the fast path reads a workspace's answer: the framing of its body (RFC 9112 §6.3) and whether the
/// connection stays, and which answers it leaves to the YARP way before the client sees a byte.
/// </summary>
public sealed class Http1ResponseHeadTests
{
    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\nhello world!", false, "ContentLength", 12)]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", false, "Chunked", 0)]
    [InlineData("HTTP/1.1 200 OK\r\ntransfer-encoding: Chunked\r\n\r\n", false, "Chunked", 0)]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false, "ContentLength", 0)]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n", true, "None", 0)]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", true, "None", 0)]
    [InlineData("HTTP/1.1 204 No Content\r\nContent-Length: 99\r\n\r\n", false, "None", 0)]
    [InlineData("HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n", false, "None", 0)]
    [InlineData("HTTP/1.1 404 \r\nContent-Length: 3\r\n\r\nno!", false, "ContentLength", 3)]
    [InlineData("HTTP/1.1 502 Bad Gateway\r\nX-Note: caf\u00e9\r\nContent-Length: 1\r\n\r\nx", false, "ContentLength", 1)]
    public void The_body_is_framed_as_RFC_9112_says(string response, bool toHead, string framing, long length)
    {
        var bytes = Encoding.Latin1.GetBytes(response);

        Assert.Equal(HeadParse.Taken, Http1ResponseHead.TryParse(bytes, toHead, out var head));
        Assert.Equal((framing, length, true), (head.Framing.ToString(), head.ContentLength, head.KeepAlive));
        Assert.Equal(response.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4, head.Length);
        Assert.Equal(int.Parse(response.AsSpan(9, 3), System.Globalization.CultureInfo.InvariantCulture), head.Status);
    }

    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nContent-Length: 1\r\n\r\n")]
    public void Connection_close_ends_the_workspace_connection_after_this_answer(string response)
    {
        Assert.Equal(HeadParse.Taken, Http1ResponseHead.TryParse(Encoding.ASCII.GetBytes(response), false, out var head));
        Assert.False(head.KeepAlive);
    }

    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n")]
    [InlineData("HTTP/1.1 2")]
    [InlineData("")]
    public void A_head_not_yet_whole_needs_more(string partial) =>
        Assert.Equal(HeadParse.NeedMore, Http1ResponseHead.TryParse(Encoding.ASCII.GetBytes(partial), false, out _));

    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\n\r\nbody until close", "a body that ends with the connection")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", "both framings (a smuggling shape)")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n", "two lengths")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\n", "a length list")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: +3\r\n\r\n", "a signed length")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n", "an empty length")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", "a length that overflows")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "a coding list")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", "two Transfer-Encodings")]
    [InlineData("HTTP/1.1 100 Continue\r\n\r\n", "an interim answer")]
    [InlineData("HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n", "early hints")]
    [InlineData("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", "a switch of protocols")]
    [InlineData("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n", "HTTP/1.0")]
    [InlineData("HTTP/1.1 200OK\r\nContent-Length: 1\r\n\r\n", "no space after the status")]
    [InlineData("HTTP/1.1 2x0 OK\r\nContent-Length: 1\r\n\r\n", "a status that is not digits")]
    [InlineData("HTTP/1.1 600 Odd\r\nContent-Length: 1\r\n\r\n", "a status beyond 5xx")]
    [InlineData("HTTP/1.1 200 OK\r\nX : a\r\nContent-Length: 1\r\n\r\n", "whitespace before the colon")]
    [InlineData("HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 1\r\n\r\n", "obs-fold")]
    [InlineData("HTTP/1.1 200 OK\r\nX: a\0b\r\nContent-Length: 1\r\n\r\n", "NUL in a value")]
    [InlineData("HTTP/1.1 200 OK\r\nX: a\rb\r\nContent-Length: 1\r\n\r\n", "a bare CR in a value")]
    public void Anything_the_fast_path_cannot_relay_as_it_came_goes_the_YARP_way(string response, string why) =>
        Assert.True(HeadParse.Declined == Http1ResponseHead.TryParse(Encoding.Latin1.GetBytes(response), false, out _), why);

    [Fact]
    public void A_head_larger_than_the_limit_goes_the_YARP_way()
    {
        var huge = Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nX: " + new string('a', Http1ResponseHead.MaxLength));
        Assert.Equal(HeadParse.Declined, Http1ResponseHead.TryParse(huge, false, out _));
    }

    [Fact]
    public void A_head_that_does_not_fit_the_buffer_is_not_written_in_part()
    {
        var answer = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"u8.ToArray();
        Assert.Equal(HeadParse.Taken, Http1ResponseHead.TryParse(answer, false, out var head));
        Assert.Equal(-1, ClientResponseHead.Write(answer, head, new RelayedAnswer("gw_session", default, "Sat, 05 Dec 2026 05:00:00 GMT"u8), new byte[40]));

        var request = "GET /ws/w1/ HTTP/1.1\r\nHost: h\r\n\r\n"u8.ToArray();
        Assert.Equal(HeadParse.Taken, Http1RequestHead.TryParse(request, Http1HeadLimits.From(new Gateway.Configuration.LimitsOptions()), out var requestHead));
        Assert.Equal(-1, WorkspaceRequestHead.Write(request, requestHead, new ForwardedFrom("127.0.0.1"u8, false, 6, "gw_session"), new byte[40]));
        requestHead.Return();
    }
}
