using System.Text;
using Gateway.FastPath;

namespace Gateway.Tests.FastPath;

/// <summary>
/// The fast path's request-head reader: what it takes, and that it declines (leaves to Kestrel) everything
/// outside its strict subset instead of reading it some way of its own.
/// </summary>
public sealed class Http1RequestHeadTests
{
    // The gateway's own defaults (Gateway:Limits): 64 KiB of headers, 16 KiB request line, 100 fields.
    private static readonly Http1HeadLimits Limits = Http1HeadLimits.From(new Gateway.Configuration.LimitsOptions());

    private const string BrowserGet =
        "GET /ws/ws-abc/static/out/vs/workbench.js?v=1 HTTP/1.1\r\n"
        + "Host: gateway.example.com:8080\r\n"
        + "User-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\n"
        + "Accept: */*\r\n"
        + "Accept-Encoding: gzip, deflate, br\r\n"
        + "Cookie: theme=dark; gw_session=eyJ.abc.def\r\n"
        + "Connection: keep-alive\r\n"
        + "\r\n";

    [Fact]
    public void A_browsers_GET_is_taken_with_its_target_host_and_fields_where_they_were_sent()
    {
        var bytes = Encoding.ASCII.GetBytes(BrowserGet + "GET /next HTTP/1.1\r\n");

        Assert.Equal(HeadParse.Taken, Http1RequestHead.TryParse(bytes, Limits, out var head));
        try
        {
            Assert.False(head.IsHead);
            Assert.Equal("/ws/ws-abc/static/out/vs/workbench.js?v=1", Text(bytes, head.Target));
            Assert.Equal("gateway.example.com:8080", Text(bytes, head.Host));
            Assert.Equal(BrowserGet.Length, head.Length);
            var fields = head.Fields.Take(head.FieldCount).Select(f => (Text(bytes, f.Name), Text(bytes, f.Value))).ToList();
            Assert.Equal(
                [
                    ("Host", "gateway.example.com:8080"),
                    ("User-Agent", "Mozilla/5.0 (X11; Linux x86_64)"),
                    ("Accept", "*/*"),
                    ("Accept-Encoding", "gzip, deflate, br"),
                    ("Cookie", "theme=dark; gw_session=eyJ.abc.def"),
                    ("Connection", "keep-alive"),
                ],
                fields);
        }
        finally
        {
            head.Return();
        }
    }

    [Fact]
    public void HEAD_and_whitespace_around_values_are_taken_the_value_without_it()
    {
        var bytes = Encoding.ASCII.GetBytes("HEAD / HTTP/1.1\r\nHost:h\r\nX-A: \t a b \t\r\nX-Empty:\r\n\r\n");

        Assert.Equal(HeadParse.Taken, Http1RequestHead.TryParse(bytes, Limits, out var head));
        Assert.True(head.IsHead);
        Assert.Equal("a b", Text(bytes, head.Fields[1].Value));
        Assert.Equal("", Text(bytes, head.Fields[2].Value));
        head.Return();
    }

    // As Chrome and Firefox open a WebSocket: the handshake is taken, the Upgrade value kept as sent.
    [Theory]
    [InlineData("GET /ws/a/ HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k\r\nSec-WebSocket-Version: 13\r\n\r\n", "websocket")]
    [InlineData("GET /ws/a/ HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Upgrade\r\nUpgrade: WebSocket\r\nSec-WebSocket-Version: 13\r\n\r\n", "WebSocket")]
    public void A_WebSocket_handshake_is_taken_as_one(string request, string upgrade)
    {
        var bytes = Encoding.ASCII.GetBytes(request);

        Assert.Equal(HeadParse.Taken, Http1RequestHead.TryParse(bytes, Limits, out var head));
        Assert.True(head.IsWebSocket);
        Assert.Equal(upgrade, Text(bytes, head.Upgrade));
        head.Return();

        Assert.Equal(HeadParse.Taken, Http1RequestHead.TryParse("GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\n\r\n"u8, Limits, out var plain));
        Assert.False(plain.IsWebSocket);
        plain.Return();
    }

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nHost: h\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHo")]
    [InlineData("GE")]
    [InlineData("")]
    public void A_head_not_yet_whole_needs_more(string partial) =>
        Assert.Equal(HeadParse.NeedMore, Http1RequestHead.TryParse(Encoding.ASCII.GetBytes(partial), Limits, out _));

    [Theory]
    [InlineData("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", "a method with a body")]
    [InlineData("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", "asterisk form")]
    [InlineData("get / HTTP/1.1\r\nHost: h\r\n\r\n", "a method in lower case")]
    [InlineData("GET / HTTP/1.0\r\nHost: h\r\n\r\n", "HTTP/1.0")]
    [InlineData("GET http://h/ HTTP/1.1\r\nHost: h\r\n\r\n", "absolute form")]
    [InlineData("GET  / HTTP/1.1\r\nHost: h\r\n\r\n", "two spaces")]
    [InlineData("GET / HTTP/1.1 \r\nHost: h\r\n\r\n", "a space after the version")]
    [InlineData("GET /a b HTTP/1.1\r\nHost: h\r\n\r\n", "a space in the target")]
    [InlineData("GET /a#b HTTP/1.1\r\nHost: h\r\n\r\n", "a fragment")]
    [InlineData("GET /ws/a/%2e%2e/b/ HTTP/1.1\r\nHost: h\r\n\r\n", "percent-encoding in the path")]
    [InlineData("GET /ws/a/../b/ HTTP/1.1\r\nHost: h\r\n\r\n", "a dot-dot segment")]
    [InlineData("GET /ws/a/./b HTTP/1.1\r\nHost: h\r\n\r\n", "a dot segment")]
    [InlineData("GET /ws/a/.. HTTP/1.1\r\nHost: h\r\n\r\n", "a final dot-dot")]
    [InlineData("GET /ws//a/ HTTP/1.1\r\nHost: h\r\n\r\n", "an empty segment")]
    [InlineData("GET /ws\\a/ HTTP/1.1\r\nHost: h\r\n\r\n", "a backslash")]
    [InlineData("GET /\u007f HTTP/1.1\r\nHost: h\r\n\r\n", "DEL in the target")]
    [InlineData("GET / HTTP/1.1\nHost: h\r\n\r\n", "a bare LF")]
    [InlineData("GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n", "a bare CR in a value")]
    [InlineData("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", "obs-fold")]
    [InlineData("GET / HTTP/1.1\r\nHost: h\r\nX : a\r\n\r\n", "whitespace before the colon")]
    [InlineData("GET / HTTP/1.1\r\nHost: h\r\nX(y): a\r\n\r\n", "a name that is not a token")]
    [InlineData("GET / HTTP/1.1\r\nHost: h\r\n: a\r\n\r\n", "an empty name")]
    [InlineData("GET / HTTP/1.1\r\nHost: h\r\nX: a\u0001\r\n\r\n", "a control in a value")]
    [InlineData("GET / HTTP/1.1\r\nHost: h\r\nX: caf\u00e9\r\n\r\n", "obs-text")]
    [InlineData("GET / HTTP/1.1\r\n\r\n", "no Host")]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "two Hosts")]
    [InlineData("GET / HTTP/1.1\r\nHost: \r\n\r\n", "an empty Host")]
    [InlineData("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", "a Host with a space")]
    [InlineData("GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n", "an IP literal")]
    [InlineData("GET / HTTP/1.1\r\nHost: h:123456\r\n\r\n", "a port of six digits")]
    [InlineData("GET / HTTP/1.1\r\nHost: user@h\r\n\r\n", "userinfo in Host")]
    [InlineData("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", "Content-Length")]
    [InlineData("GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", "Transfer-Encoding")]
    [InlineData("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n", "an upgrade to anything but a WebSocket")]
    [InlineData("HEAD / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", "a WebSocket handshake by HEAD")]
    [InlineData("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n", "Upgrade without Connection naming it")]
    [InlineData("GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\n\r\n", "Connection: Upgrade without Upgrade")]
    [InlineData("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", "two Upgrade fields")]
    [InlineData("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket, h2c\r\nConnection: Upgrade\r\n\r\n", "a list of protocols")]
    [InlineData("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nConnection: keep-alive\r\n\r\n", "two Connection fields with an upgrade")]
    [InlineData("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade, close\r\n\r\n", "an upgrade that also closes")]
    [InlineData("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", "Connection: close")]
    [InlineData("GET / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n\r\n", "Expect")]
    [InlineData("GET / HTTP/1.1\r\nHost: h\r\nTE: trailers\r\n\r\n", "TE")]
    [InlineData("\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", "a leading empty line")]
    public void Anything_outside_the_subset_is_declined_to_Kestrel(string request, string why) =>
        Assert.True(HeadParse.Declined == Http1RequestHead.TryParse(Encoding.Latin1.GetBytes(request), Limits, out _), why);

    [Fact]
    public void A_head_longer_than_the_limit_or_with_too_many_fields_is_declined()
    {
        var huge = Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: h\r\nX: " + new string('a', Http1HeadLimits.Largest));
        Assert.Equal(HeadParse.Declined, Http1RequestHead.TryParse(huge, Limits, out _));

        var longLine = Encoding.ASCII.GetBytes("GET /" + new string('a', 16 * 1024) + " HTTP/1.1\r\nHost: h\r\n\r\n");
        Assert.Equal(HeadParse.Declined, Http1RequestHead.TryParse(longLine, Limits, out _));
        Assert.Equal(HeadParse.Declined, Http1RequestHead.TryParse(huge, Limits, out _));

        var many = new StringBuilder("GET / HTTP/1.1\r\nHost: h\r\n");
        for (var i = 0; i < Limits.MaxFields; i++)
        {
            many.Append("X-").Append(i).Append(": v\r\n");
        }

        Assert.Equal(HeadParse.Declined, Http1RequestHead.TryParse(Encoding.ASCII.GetBytes(many.Append("\r\n").ToString()), Limits, out _));
    }

    private static string Text(byte[] bytes, Range range) => Encoding.ASCII.GetString(bytes[range]);
}
