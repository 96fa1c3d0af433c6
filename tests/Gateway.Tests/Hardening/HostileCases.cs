using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Hardening;

/// <summary>What a hostile case must come to, besides the rules every case obeys (no 5xx, nothing reaches B).</summary>
public sealed record Expectation(string Description, Func<RawHttpExchange, bool> Holds)
{
    public static Expectation Is(params int[] codes) => new(
        $"status {string.Join(" or ", codes)}", e => e.Statuses.Count > 0 && e.Statuses.All(codes.Contains));

    /// <summary>A 4xx, or the connection closed by Kestrel's limits without an answer.</summary>
    public static Expectation Refused { get; } = new(
        "4xx or closed", e => e.Statuses.All(s => s is >= 400 and < 500));

    public static Expectation FromA(int code = 200) => new(
        $"{code} from workspace A", e => e.Statuses.Count > 0 && e.Statuses.All(s => s == code) && e.ServedBy("A"));

    /// <summary>Answered by A (the workspace the credential names), whatever A said, or refused by the gateway.</summary>
    public static Expectation FromAOrRefused { get; } = new(
        "A's answer, 4xx or closed", e => e.ServedBy("A") || e.Statuses.All(s => s is >= 400 and < 500));

    public static Expectation EchoFromA(string description, Func<string, bool> check) => new(
        $"200 from A whose echo shows {description}", e => e.Statuses.SequenceEqual([200]) && e.ServedBy("A") && check(e.Text));
}

/// <summary>One hostile request (or several, pipelined) sent on a raw socket.</summary>
public sealed record HostileCase(string Category, string Name, string Template, Expectation Expect, int Requests = 1)
{
    public Func<NetworkStream, byte[], CancellationToken, Task>? Write { get; init; }

    public TimeSpan Deadline { get; init; } = TimeSpan.FromSeconds(10);

    public byte[] Bytes(string host) => Encoding.Latin1.GetBytes(Template.Replace(HostileCases.Host, host, StringComparison.Ordinal));
}

/// <summary>
/// The table. The attacker holds a ticket for workspace A and tries to reach B, to confuse the
/// gateway's parsing, or to break it. <c>{HOST}</c> is the gateway's address, filled in at run time.
/// </summary>
public static class HostileCases
{
    public const string Host = "{HOST}";
    public const string A = "hostileA";
    public const string B = "hostileB";

    // Minted once, when the table is first read, and sent minutes later (the suite runs through both forwarding
    // paths): long enough to stay valid for the whole run.
    private static readonly TimeSpan Valid = TimeSpan.FromHours(1);

    public static readonly string TicketA = TestTickets.Ticket(A, "attacker", Valid);
    public static readonly string TicketB = TestTickets.Ticket(B, "victim", Valid);
    public static readonly string SessionA = TestTickets.Session(A, "attacker");
    public static readonly string SessionB = TestTickets.Session(B, "victim");
    private static readonly string BearerA = "Authorization: Bearer " + TicketA;

    /// <summary>Every case's name, for a theory.</summary>
    public static TheoryData<string> Names => new(All.Keys);

    public static IReadOnlyDictionary<string, HostileCase> All { get; } = Build().ToDictionary(c => $"{c.Category}: {c.Name}");

    /// <summary>Every token a test mints; none may ever show up in what a workspace received.</summary>
    public static IEnumerable<string> Secrets => [Signature(TicketA), Signature(TicketB), Signature(SessionA), Signature(SessionB)];

    private static string Signature(string token) => token[(token.LastIndexOf('.') + 1)..];

    // A kept-alive connection is read for 2 s: long enough for a smuggled second request to be answered.
    private static IEnumerable<HostileCase> Build() =>
        new[] { Credentials(), Paths(), Ports(), ControlCharacters(), Sizes(), Framing(), Upgrades(), Spoofing(), Origins(), SlowClients() }
            .SelectMany(cases => cases)
            .Select(c => c.Write is null && !c.Template.Contains("Connection: close", StringComparison.Ordinal) ? c with { Deadline = TimeSpan.FromSeconds(2) } : c);

    private static string Request(string method, string target, IEnumerable<string> headers, string body = "", bool close = true, string version = "HTTP/1.1")
    {
        var text = new StringBuilder($"{method} {target} {version}\r\n");
        var list = headers.ToList();
        if (!list.Any(h => h.StartsWith("Host:", StringComparison.OrdinalIgnoreCase) || h == "NO-HOST"))
        {
            text.Append($"Host: {Host}\r\n");
        }

        foreach (var header in list.Where(h => h != "NO-HOST"))
        {
            text.Append(header).Append("\r\n");
        }

        if (body.Length > 0 && !list.Any(h => h.StartsWith("Content-Length", StringComparison.OrdinalIgnoreCase) || h.StartsWith("Transfer-Encoding", StringComparison.OrdinalIgnoreCase)))
        {
            text.Append($"Content-Length: {Encoding.Latin1.GetByteCount(body)}\r\n");
        }

        if (close)
        {
            text.Append("Connection: close\r\n");
        }

        return text.Append("\r\n").Append(body).ToString();
    }

    private static string Get(string target, params string[] headers) => Request("GET", target, headers);

    private static string AsLatin1Utf8(string text) => Encoding.Latin1.GetString(Encoding.UTF8.GetBytes(text));

    private static JsonObject ClaimsA(TimeSpan? lifetime = null) => TestTickets.Claims(A, "attacker", TestTickets.Audience, lifetime ?? Valid);

    private static IEnumerable<HostileCase> Credentials()
    {
        const string c = "credentials";
        var bad = new (string Name, string Token)[]
        {
            ("expired ticket", TestTickets.Hs256(ClaimsA(TimeSpan.FromMinutes(-5)))),
            ("ticket not yet valid", TestTickets.Hs256(With(ClaimsA(), "nbf", DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds()))),
            ("wrong audience", TestTickets.Hs256(With(ClaimsA(), "aud", "some-other-service"))),
            ("audience list without ours", TestTickets.Hs256(With(ClaimsA(), "aud", new JsonArray("a", "b")))),
            ("another issuer, the right key and audience", TestTickets.Hs256(With(ClaimsA(), "iss", "another-system-sharing-the-key"))),
            ("no issuer", TestTickets.Hs256(Without(ClaimsA(), "iss"))),
            ("the gateway's own issuer on a ticket", TestTickets.Hs256(With(ClaimsA(), "iss", TestTickets.SessionIssuer))),
            ("signed with another key", TestTickets.Hs256(ClaimsA(), key: new byte[32])),
            ("signature of another token", TicketA[..TicketA.LastIndexOf('.')] + "." + Signature(TicketB)),
            ("payload swapped under a valid signature", TicketA.Split('.')[0] + "." + TestTickets.Encode(TestTickets.Claims(B, "attacker", TestTickets.Audience, TimeSpan.FromMinutes(2))) + "." + Signature(TicketA)),
            ("alg none, empty signature", TestTickets.WithoutSignature(ClaimsA())),
            ("alg None, empty signature", TestTickets.WithoutSignature(ClaimsA(), "None")),
            ("alg none without the last dot", TestTickets.WithoutSignature(ClaimsA()).TrimEnd('.')),
            ("alg none with the real signature kept", TestTickets.WithoutSignature(ClaimsA()) + Signature(TicketA)),
            ("alg HS512 with the right key", TestTickets.Hs512(ClaimsA())),
            ("alg RS256 header over an HMAC", TestTickets.Hs256(ClaimsA(), header: new JsonObject { ["alg"] = "RS256" })),
            ("no exp", TestTickets.Hs256(Without(ClaimsA(), "exp"))),
            ("no sid", TestTickets.Hs256(Without(ClaimsA(), "sid"))),
            ("no sub", TestTickets.Hs256(Without(ClaimsA(), "sub"))),
            ("sid is a number", TestTickets.Hs256(With(ClaimsA(), "sid", 42))),
            ("sid is a list of both", TestTickets.Hs256(With(ClaimsA(), "sid", new JsonArray(A, B)))),
            ("sid with dot segments", TestTickets.Hs256(With(ClaimsA(), "sid", $"{A}/../{B}"))),
            ("session token used as a ticket", SessionA),
            ("two parts", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0"),
            ("four parts", TicketA + ".extra"),
            ("five parts (JWE shape)", "a.b.c.d.e"),
            ("not base64", "%%%.&&&.***"),
            ("header not JSON", TestTickets.Base64Url("nope"u8) + "." + TicketA.Split('.')[1] + "." + Signature(TicketA)),
            ("payload not JSON", TicketA.Split('.')[0] + "." + TestTickets.Base64Url("[1,2"u8) + "." + Signature(TicketA)),
            ("empty", ""),
            ("only dots", ".."),
            ("7 KB of noise", new string('A', 7000) + "." + new string('B', 10) + "." + new string('C', 10)),
        };

        foreach (var (name, token) in bad)
        {
            yield return new(c, $"bearer: {name}", Get($"/ws/{A}/", "Authorization: Bearer " + token), Expectation.Is(401));
            yield return new(c, $"query: {name}", Get($"/ws/{A}/?ticket={Uri.EscapeDataString(token)}"), Expectation.Is(401));
        }

        yield return new(c, "cookie: ticket (not a session) as the cookie", Get($"/ws/{A}/", "Cookie: gw_session=" + TicketA), Expectation.Is(401));
        yield return new(c, "cookie: expired session", Get($"/ws/{A}/", "Cookie: gw_session=" + TestTickets.Session(A, "attacker", TimeSpan.FromMinutes(-5))), Expectation.Is(401));
        yield return new(c, "cookie: session signed with another key", Get($"/ws/{A}/", "Cookie: gw_session=" + TestTickets.Hs256(TestTickets.Claims(A, "x", TestTickets.SessionAudience, TimeSpan.FromHours(1)), key: new byte[32])), Expectation.Is(401));
        yield return new(c, "cookie: name in other case", Get($"/ws/{A}/", "Cookie: GW_SESSION=" + SessionA), Expectation.Is(401));
        yield return new(c, "cookie: empty value", Get($"/ws/{A}/", "Cookie: gw_session="), Expectation.Is(401));
        yield return new(c, "cookie: quoted value", Get($"/ws/{A}/", $"Cookie: gw_session=\"{SessionA}\""), Expectation.FromA());
        yield return new(c, "cookie: among others, in a second header line", Get($"/ws/{A}/", "Cookie: a=1", $"Cookie: b=2; gw_session={SessionA}"), Expectation.FromA());
        yield return new(c, "cookie: victim's session sent to the victim's workspace by the attacker", Get($"/ws/{B}/", "Cookie: gw_session=" + SessionA), Expectation.Is(403));
        yield return new(c, "cookie: B's session first, then A's, at A", Get($"/ws/{A}/", $"Cookie: gw_session={SessionB}; gw_session={SessionA}"), Expectation.Is(403));
        yield return new(c, "none: GET", Get($"/ws/{A}/"), Expectation.Is(401));
        yield return new(c, "none: HEAD", Request("HEAD", $"/ws/{A}/", []), Expectation.Is(401));
        yield return new(c, "none: POST with a body", Request("POST", $"/ws/{A}/upload", [], "data"), Expectation.Is(401));
        yield return new(c, "none: OPTIONS preflight", Request("OPTIONS", $"/ws/{A}/", ["Origin: http://evil.example", "Access-Control-Request-Method: GET"]), Expectation.Is(401));
        yield return new(c, "none: DELETE", Request("DELETE", $"/ws/{A}/file", []), Expectation.Is(401));
        yield return new(c, "none: unknown sid costs no lookup and says nothing", Get("/ws/doesnotexist/"), Expectation.Is(401));
        yield return new(c, "bearer: valid for A", Get($"/ws/{A}/", BearerA), Expectation.FromA());
        yield return new(c, "bearer: scheme in lower case", Get($"/ws/{A}/", "Authorization: bearer " + TicketA), Expectation.FromA());
        yield return new(c, "bearer: scheme without token", Get($"/ws/{A}/", "Authorization: Bearer"), Expectation.Is(401));
        yield return new(c, "bearer: Basic credentials", Get($"/ws/{A}/", "Authorization: Basic YWRtaW46YWRtaW4="), Expectation.Is(401));
        yield return new(c, "bearer: two Authorization headers", Get($"/ws/{A}/", BearerA, BearerA), Expectation.Is(401));
        yield return new(c, "bearer: two tokens in one header", Get($"/ws/{A}/", $"Authorization: Bearer {TicketA}, Bearer {TicketA}"), Expectation.Is(401));
        yield return new(c, "bearer: B's ticket at B's address, sent by the attacker who stole nothing", Get($"/ws/{B}/", BearerA), Expectation.Is(403));
        yield return new(c, "query: valid ticket is exchanged", Get($"/ws/{A}/?ticket={TicketA}"), Expectation.Is(303));
        yield return new(c, "query: B's address with A's ticket", Get($"/ws/{B}/?ticket={TicketA}"), Expectation.Is(403));
        yield return new(c, "query: A's ticket then B's", Get($"/ws/{A}/?ticket={TicketA}&ticket={TicketB}"), Expectation.Is(303));
        yield return new(c, "query: B's ticket then A's", Get($"/ws/{A}/?ticket={TicketB}&ticket={TicketA}"), Expectation.Is(403));
        yield return new(c, "query: parameter name in upper case is not ours", Get($"/ws/{A}/?TICKET={TicketA}"), Expectation.Is(401));
        yield return new(c, "query: ticket on a POST admits that request only", Request("POST", $"/ws/{A}/upload?ticket={TicketA}", [], "data"), Expectation.FromA());
        yield return new(c, "query: bad percent escape", Get($"/ws/{A}/?ticket=%zz{TicketA}"), Expectation.Is(401));
        yield return new(c, "query: ticket in the fragment is never sent", Get($"/ws/{A}/%23ticket={TicketA}"), Expectation.Is(401));
    }

    private static IEnumerable<HostileCase> Paths()
    {
        const string c = "paths";
        var toB = new[]
        {
            $"/ws/{B}/", $"/ws/{A}/../{B}/", $"/ws/{A}/%2e%2e/{B}/", $"/ws/{A}/%2E%2E/{B}/x", $"/ws/{A}/a/%2e%2e/%2e%2e/{B}/",
            $"/ws/{A}/.%2e/{B}/", $"/ws/{A}/%2e./{B}/", $"/ws/./{B}/", $"/ws/{A}/./../{B}/", $"/x/../ws/{B}/", $"/ws/{A}/../../ws/{B}/",
            $"/%77%73/{B}/", $"/ws/%68ostileB/",
        };
        foreach (var target in toB)
        {
            yield return new(c, $"reaching B: {target}", Get(target, BearerA), Expectation.Is(403));
        }

        var refused = new (string Name, string Target)[]
        {
            ("encoded slash inside the sid", $"/ws/{A}%2f..%2f{B}/"),
            ("encoded slash after the sid", $"/ws/{A}%2F/"),
            ("encoded backslash", $"/ws/{A}%5c..%5c{B}/"),
            ("dot segments leaving /ws", $"/ws/{A}/../"),
            ("encoded dot segments leaving /ws", $"/ws/{A}/%2e%2e"),
            ("empty sid", "/ws//"),
            ("double slash before sid", $"/ws//{A}/"),
            ("sid of dots", "/ws/.../"),
            ("sid 65 characters", $"/ws/{new string('a', 65)}/"),
            ("sid 1,000 characters", $"/ws/{new string('a', 1000)}/"),
            ("sid with an encoded NUL", $"/ws/{A}%00/"),
            ("sid with an encoded space", $"/ws/{A}%20/"),
            ("sid with a semicolon", $"/ws/{A};x/"),
            ("sid with a colon", $"/ws/{A}:80/"),
            ("sid with an encoded percent", $"/ws/{A}%25/"),
            ("sid with a pipe", $"/ws/{A}|/"),
            ("sid with an encoded at sign", $"/ws/{A}%40evil/"),
            ("sid of encoded unicode (ï)", "/ws/s%C3%AFd/"),
            ("sid of encoded fullwidth letters", "/ws/%EF%BD%88ostileA/"),
            ("sid with an encoded right-to-left override", $"/ws/{A}%E2%80%AE/"),
            ("sid with an encoded zero-width joiner", $"/ws/{A}%E2%80%8D/"),
            ("sid with overlong UTF-8 for '/'", $"/ws/{A}%C0%AF{B}/"),
            ("sid with invalid UTF-8", $"/ws/{A}%FF/"),
            ("sid with double-encoded slash", $"/ws/{A}%252f{B}/"),
            ("sid with raw unicode bytes", AsLatin1Utf8($"/ws/s\u00efd/")),
            ("raw backslashes", $"/ws/{A}\\..\\{B}/"),
            ("raw space in the path", $"/ws/{A} x/"),
            ("raw tab in the path", $"/ws/{A}\tx/"),
            ("asterisk form", "*"),
            ("target without leading slash", $"ws/{A}/"),
            ("authority form", $"{A}:80"),
        };
        foreach (var (name, target) in refused)
        {
            yield return new(c, name, Get(target, BearerA), Expectation.Refused);
        }

        var toA = new (string Name, string Target)[]
        {
            ("double-encoded dots stay in A", $"/ws/{A}/%252e%252e/{B}/"),
            ("encoded slash in the rest stays in A", $"/ws/{A}/..%2f{B}/"),
            ("query naming B", $"/ws/{A}/?next=/ws/{B}/"),
            ("absolute-form target", $"http://{Host}/ws/{A}/x"),
            ("absolute-form naming another host", $"http://evil.example/ws/{A}/x"),
            ("overlong path inside A", $"/ws/{A}/{new string('x', 8000)}"),
            ("encoded NUL in the rest", $"/ws/{A}/a%00b"),
            ("encoded CRLF in the rest", $"/ws/{A}/a%0d%0aX-Injected:%201"),
            ("encoded unicode in the rest", $"/ws/{A}/%E2%80%AE"),
            ("trailing dot segment", $"/ws/{A}/x/."),
            ("'..;' is not a dot segment", $"/ws/{A}/..;/{B}/"),
        };
        foreach (var (name, target) in toA)
        {
            yield return new(c, name, Get(target, BearerA), Expectation.FromAOrRefused);
        }

        yield return new(c, "raw '#' fragment", Get($"/ws/{A}/#x", BearerA), Expectation.Is(400));
        yield return new(c, "raw '#' before the sid ends", Get($"/ws/{A}#/../{B}/", BearerA), Expectation.Refused);
        yield return new(c, "upper-case WS prefix is not a workspace path", Get($"/WS/{B}/", BearerA), Expectation.Is(404));
        yield return new(c, "missing trailing slash redirects, nothing forwarded", Get($"/ws/{A}", BearerA), Expectation.Is(401, 308));
        yield return new(c, "request line 20 KB", Get($"/ws/{A}/{new string('x', 20_000)}", BearerA), Expectation.Is(414));
    }

    private static IEnumerable<HostileCase> Ports()
    {
        const string c = "port proxy";
        foreach (var port in new[] { "0", "65536", "-1", "abc", "80a", "+80", "%2080", "99999999999", "000080", "1e3", "0x50", "%EF%BC%98%EF%BC%90", "", "80%00", "8080.", "%2d1" })
        {
            yield return new(c, $"/proxy/{port}/", Get($"/ws/{A}/proxy/{port}/", BearerA), Expectation.Is(400));
        }

        foreach (var port in new[] { "0", "65536", "x", "" })
        {
            yield return new(c, $"/absproxy/{port}/", Get($"/ws/{A}/absproxy/{port}/", BearerA), Expectation.Is(400));
        }

        yield return new(c, "/PROXY/0/ (matched without case, like Express)", Get($"/ws/{A}/PROXY/0/", BearerA), Expectation.Is(400));
        yield return new(c, "/proxy/0/ without a credential is 401 first", Get($"/ws/{A}/proxy/0/"), Expectation.Is(400, 401));
        yield return new(c, "/proxy/%38%30/ decodes to a valid port", Get($"/ws/{A}/proxy/%38%30/", BearerA), Expectation.FromA());
        yield return new(c, "/proxy/00080/ is port 80", Get($"/ws/{A}/proxy/00080/", BearerA), Expectation.FromA());
        yield return new(c, "/proxy/8080 without slash", Get($"/ws/{A}/proxy/8080", BearerA), Expectation.FromA());
        yield return new(c, "/proxy/8080/../../ws/B", Get($"/ws/{A}/proxy/8080/../../../{B}/", BearerA), Expectation.Is(403));
    }

    private static IEnumerable<HostileCase> ControlCharacters()
    {
        const string c = "control characters";
        var raw = new (string Name, string Text)[]
        {
            ("CRLF injected into a header value", $"GET /ws/{A}/ HTTP/1.1\r\nHost: {Host}\r\nX-A: 1\r\nGET /ws/{B}/ HTTP/1.1\r\n{BearerA}\r\nConnection: close\r\n\r\n"),
            ("bare CR inside a header value", $"GET /ws/{A}/ HTTP/1.1\r\nHost: {Host}\r\nX-A: 1\rX-B: 2\r\n{BearerA}\r\nConnection: close\r\n\r\n"),
            ("bare LF line endings", $"GET /ws/{A}/ HTTP/1.1\nHost: {Host}\n{BearerA}\nConnection: close\n\n"),
            ("NUL in a header value", $"GET /ws/{A}/ HTTP/1.1\r\nHost: {Host}\r\nX-A: a\0b\r\n{BearerA}\r\nConnection: close\r\n\r\n"),
            ("NUL in a header name", $"GET /ws/{A}/ HTTP/1.1\r\nHost: {Host}\r\nX-\0A: 1\r\n{BearerA}\r\nConnection: close\r\n\r\n"),
            ("NUL in the path", $"GET /ws/{A}/\0 HTTP/1.1\r\nHost: {Host}\r\n{BearerA}\r\nConnection: close\r\n\r\n"),
            ("NUL in the method", $"G\0ET /ws/{A}/ HTTP/1.1\r\nHost: {Host}\r\n{BearerA}\r\nConnection: close\r\n\r\n"),
            ("space inside a header name", $"GET /ws/{A}/ HTTP/1.1\r\nHost: {Host}\r\nX A: 1\r\n{BearerA}\r\nConnection: close\r\n\r\n"),
            ("space before the colon", $"GET /ws/{A}/ HTTP/1.1\r\nHost: {Host}\r\nX-A : 1\r\n{BearerA}\r\nConnection: close\r\n\r\n"),
            ("header line without a colon", $"GET /ws/{A}/ HTTP/1.1\r\nHost: {Host}\r\nX-A\r\n{BearerA}\r\nConnection: close\r\n\r\n"),
            ("obsolete line folding", $"GET /ws/{A}/ HTTP/1.1\r\nHost: {Host}\r\nX-A: 1\r\n  continued\r\n{BearerA}\r\nConnection: close\r\n\r\n"),
            ("empty header name", $"GET /ws/{A}/ HTTP/1.1\r\nHost: {Host}\r\n: 1\r\n{BearerA}\r\nConnection: close\r\n\r\n"),
            ("CR in the request target", $"GET /ws/{A}/\rx HTTP/1.1\r\nHost: {Host}\r\n{BearerA}\r\nConnection: close\r\n\r\n"),
            ("CR and a request for B in the target", $"GET /ws/{A}/\rGET /ws/{B}/ HTTP/1.1\r\nHost: {Host}\r\n{BearerA}\r\nConnection: close\r\n\r\n"),
            ("escape character in the target", $"GET /ws/{A}/\u001b[2J HTTP/1.1\r\nHost: {Host}\r\n{BearerA}\r\nConnection: close\r\n\r\n"),
            ("vertical tab in the target", $"GET /ws/{A}/a\u000bb HTTP/1.1\r\nHost: {Host}\r\n{BearerA}\r\nConnection: close\r\n\r\n"),
            ("DEL in the target", $"GET /ws/{A}/a\u007fb HTTP/1.1\r\nHost: {Host}\r\n{BearerA}\r\nConnection: close\r\n\r\n"),
            ("two spaces in the request line", $"GET  /ws/{A}/ HTTP/1.1\r\nHost: {Host}\r\n{BearerA}\r\nConnection: close\r\n\r\n"),
            ("unknown HTTP version", $"GET /ws/{A}/ HTTP/1.7\r\nHost: {Host}\r\n{BearerA}\r\nConnection: close\r\n\r\n"),
            ("HTTP/0.9 request line", $"GET /ws/{A}/\r\n\r\n"),
            ("lower-case method", $"get /ws/{A}/ HTTP/1.1\r\nHost: {Host}\r\n{BearerA}\r\nConnection: close\r\n\r\n"),
            ("method with a slash", $"GE/T /ws/{A}/ HTTP/1.1\r\nHost: {Host}\r\n{BearerA}\r\nConnection: close\r\n\r\n"),
            ("high bytes in a header value", $"GET /ws/{A}/ HTTP/1.1\r\nHost: {Host}\r\nX-A: \u00ff\u00fe\r\n{BearerA}\r\nConnection: close\r\n\r\n"),
            ("DEL in a header value", $"GET /ws/{A}/ HTTP/1.1\r\nHost: {Host}\r\nX-A: a\u007fb\r\n{BearerA}\r\nConnection: close\r\n\r\n"),
            ("CRLF injected into the ticket", $"GET /ws/{A}/ HTTP/1.1\r\nHost: {Host}\r\nAuthorization: Bearer {TicketA}\r\nX-Evil: 1\r\nConnection: close\r\n\r\n"),
            ("garbage instead of a request", "\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u01fc\u0003\u0003 not http\r\n\r\n"),
        };
        foreach (var (name, text) in raw)
        {
            // Kestrel accepts a few things RFC 9112 lets a recipient accept (bare LF, obs-text, DEL, methods
            // are case-sensitive tokens); the request then goes on re-serialised, so nothing is smuggled.
            var lenient = name is "high bytes in a header value" or "CRLF injected into the ticket" or "CRLF injected into a header value"
                or "bare LF line endings" or "DEL in a header value" or "lower-case method";
            var expect = name == "unknown HTTP version" ? Expectation.Is(505)
                : name.EndsWith("in the target", StringComparison.Ordinal) || name == "CR in the request target" ? Expectation.Is(400) : lenient ? Expectation.FromAOrRefused : Expectation.Refused;
            yield return new(c, name, text, expect, Requests: name == "CRLF injected into a header value" ? 2 : 1);
        }
    }

    private static IEnumerable<HostileCase> Sizes()
    {
        const string c = "sizes";
        yield return new(c, "one 70 KB header", Get($"/ws/{A}/", BearerA, "X-Big: " + new string('a', 70_000)), Expectation.Is(431));
        yield return new(c, "a 70 KB cookie", Get($"/ws/{A}/", BearerA, "Cookie: x=" + new string('a', 70_000)), Expectation.Is(431));
        yield return new(c, "101 headers", Get($"/ws/{A}/", [BearerA, .. Enumerable.Range(0, 101).Select(i => $"X-H{i}: {i}")]), Expectation.Is(431));
        yield return new(c, "20 KB of headers pass (a workspace may refuse more: Node's limit is 16 KB)", Get($"/ws/{A}/", BearerA, "X-Big: " + new string('a', 20_000)), Expectation.FromA());
        yield return new(c, "60 KB of headers pass the gateway, the workspace has its own limit", Get($"/ws/{A}/", BearerA, "X-Big: " + new string('a', 60_000)), Expectation.Is(431));
        yield return new(c, "a 10 KB bearer token", Get($"/ws/{A}/", "Authorization: Bearer " + new string('a', 10_000)), Expectation.Is(401));
        yield return new(c, "a 15 KB ticket in the query", Get($"/ws/{A}/?ticket={new string('a', 15_000)}"), Expectation.Is(401));
        yield return new(c, "declared body over the limit", Request("POST", $"/ws/{A}/upload", [BearerA, "Content-Length: 2097152"]), Expectation.Is(413));
        yield return new(c, "declared body of 10^18 bytes", Request("POST", $"/ws/{A}/upload", [BearerA, "Content-Length: 1000000000000000000"]), Expectation.Is(413));
        yield return new(c, "body at the limit", Request("POST", $"/ws/{A}/upload", [BearerA], new string('x', 1024 * 1024)), Expectation.FromA());
        yield return new(c, "chunked body growing past the limit", Request("POST", $"/ws/{A}/upload", [BearerA, "Transfer-Encoding: chunked"], string.Concat(Enumerable.Repeat($"10000\r\n{new string('x', 65536)}\r\n", 20)) + "0\r\n\r\n"), Expectation.Refused);
        yield return new(c, "body over the limit without a credential", Request("POST", $"/ws/{A}/upload", ["Content-Length: 2097152"]), Expectation.Is(401, 413));
    }

    private static IEnumerable<HostileCase> Framing()
    {
        const string c = "framing";
        // A literal Host: the lengths below are counted before {HOST} is filled in.
        var smuggled = $"GET /ws/{B}/ HTTP/1.1\r\nHost: x\r\n{BearerA}\r\n\r\n";
        var chunkedSmuggle = $"0\r\n\r\n{smuggled}";
        yield return new(c, "Content-Length and chunked (CL.TE)", Request("POST", $"/ws/{A}/upload", [BearerA, $"Content-Length: {chunkedSmuggle.Length}", "Transfer-Encoding: chunked"], chunkedSmuggle, close: false), ClosedAfter(Expectation.FromAOrRefused), Requests: 2);
        yield return new(c, "chunked and Content-Length (TE.CL)", Request("POST", $"/ws/{A}/upload", [BearerA, "Transfer-Encoding: chunked", "Content-Length: 4"], $"{smuggled.Length:x}\r\n{smuggled}\r\n0\r\n\r\n", close: false), ClosedAfter(Expectation.FromAOrRefused), Requests: 2);
        yield return new(c, "two different Content-Lengths", Request("POST", $"/ws/{A}/upload", [BearerA, "Content-Length: 4", "Content-Length: 40"], "data"), Expectation.Is(400));
        yield return new(c, "Content-Length list with different values", Request("POST", $"/ws/{A}/upload", [BearerA, "Content-Length: 4, 40"], "data"), Expectation.Is(400));
        yield return new(c, "negative Content-Length", Request("POST", $"/ws/{A}/upload", [BearerA, "Content-Length: -1"], "data"), Expectation.Is(400));
        // §6.3: 1*DIGIT, anything else is a framing error and the connection closes (Kestrel alone read +4 as 4).
        yield return new(c, "Content-Length with a plus sign", Request("POST", $"/ws/{A}/upload", [BearerA, "Content-Length: +4"], "data" + smuggled, close: false), ClosedAfter(Expectation.Is(400)), Requests: 2);
        yield return new(c, "Content-Length with a plus sign, no body", Request("POST", $"/ws/{A}/upload", [BearerA, "Content-Length: +0"]), Expectation.Is(400));
        yield return new(c, "Content-Length with an inner space", Request("POST", $"/ws/{A}/upload", [BearerA, "Content-Length: 4 4"], "data"), Expectation.Is(400));
        yield return new(c, "Content-Length with leading zeros", Request("POST", $"/ws/{A}/upload", [BearerA, "Content-Length: 0004"], "data"), Expectation.FromA());
        yield return new(c, "Content-Length of 20 digits (longer than any body the gateway takes)", Request("POST", $"/ws/{A}/upload", [BearerA, "Content-Length: 00000000000000000004"], "data"), Expectation.Is(400));
        yield return new(c, "Content-Length with a non-ASCII digit", Request("POST", $"/ws/{A}/upload", [BearerA, AsLatin1Utf8("Content-Length: \u0664")], "data"), Expectation.Is(400));
        yield return new(c, "hexadecimal Content-Length", Request("POST", $"/ws/{A}/upload", [BearerA, "Content-Length: 0x4"], "data"), Expectation.Is(400));
        yield return new(c, "Content-Length overflowing 64 bits", Request("POST", $"/ws/{A}/upload", [BearerA, "Content-Length: 99999999999999999999999"], "data"), Expectation.Is(400));
        yield return new(c, "Transfer-Encoding chunked, identity", Request("POST", $"/ws/{A}/upload", [BearerA, "Transfer-Encoding: chunked, identity"], "4\r\ndata\r\n0\r\n\r\n"), Expectation.Is(400));
        yield return new(c, "Transfer-Encoding identity", Request("POST", $"/ws/{A}/upload", [BearerA, "Transfer-Encoding: identity"], "data"), Expectation.Is(400));
        yield return new(c, "Transfer-Encoding xchunked", Request("POST", $"/ws/{A}/upload", [BearerA, "Transfer-Encoding: xchunked"], "4\r\ndata\r\n0\r\n\r\n"), Expectation.Is(400));
        yield return new(c, "Transfer-Encoding with a space before the colon", Request("POST", $"/ws/{A}/upload", [BearerA, "Transfer-Encoding : chunked"], "4\r\ndata\r\n0\r\n\r\n"), Expectation.Refused);
        // §6.1: faulty framing, and the connection must close (Kestrel alone kept it open on keep-alive).
        yield return new(c, "Transfer-Encoding on HTTP/1.0", Request("POST", $"/ws/{A}/upload", [BearerA, "Transfer-Encoding: chunked"], "4\r\ndata\r\n0\r\n\r\n", version: "HTTP/1.0"), ClosedAfter(Expectation.Is(400)));
        yield return new(c, "Transfer-Encoding on HTTP/1.0 with keep-alive", Request("POST", $"/ws/{A}/upload", [BearerA, "Transfer-Encoding: chunked", "Connection: keep-alive"], "4\r\ndata\r\n0\r\n\r\n" + smuggled, close: false, version: "HTTP/1.0"), ClosedAfter(Expectation.Is(400)), Requests: 2);
        yield return new(c, "chunk size overflowing 64 bits", Request("POST", $"/ws/{A}/upload", [BearerA, "Transfer-Encoding: chunked"], "FFFFFFFFFFFFFFFFFFFF\r\ndata\r\n0\r\n\r\n"), Expectation.Refused);
        yield return new(c, "chunk size not hexadecimal", Request("POST", $"/ws/{A}/upload", [BearerA, "Transfer-Encoding: chunked"], "zz\r\ndata\r\n0\r\n\r\n"), Expectation.Refused);
        yield return new(c, "chunk longer than its size", Request("POST", $"/ws/{A}/upload", [BearerA, "Transfer-Encoding: chunked"], "2\r\ndata\r\n0\r\n\r\n"), Expectation.Refused);
        yield return new(c, "chunk extension with a bare LF", Request("POST", $"/ws/{A}/upload", [BearerA, "Transfer-Encoding: chunked"], "4;x\ny\r\ndata\r\n0\r\n\r\n"), Expectation.Refused);
        yield return new(c, "GET with a body holding a request for B", Request("GET", $"/ws/{A}/", [BearerA, $"Content-Length: {smuggled.Length}"], smuggled, close: false), Expectation.FromAOrRefused, Requests: 2);
        yield return new(c, "pipelined: A then B on one connection", Get($"/ws/{A}/", BearerA).Replace("Connection: close\r\n", "", StringComparison.Ordinal) + Get($"/ws/{B}/", BearerA), new("200 from A, then 403", e => e.Statuses.SequenceEqual([200, 403]) && e.ServedBy("A")), Requests: 2);
        yield return new(c, "valid chunked upload", Request("POST", $"/ws/{A}/upload", [BearerA, "Transfer-Encoding: chunked"], "4\r\ndata\r\n0\r\n\r\n"), Expectation.FromA());
        yield return new(c, "Expect: 100-continue", Request("POST", $"/ws/{A}/upload", [BearerA, "Expect: 100-continue"], "data"), Expectation.FromAOrRefused);
        yield return new(c, "Expect: something else", Request("POST", $"/ws/{A}/upload", [BearerA, "Expect: 200-ok"], "data"), Expectation.FromAOrRefused);
    }

    private static IEnumerable<HostileCase> Upgrades()
    {
        const string c = "websocket upgrades";
        const string key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==";
        const string version = "Sec-WebSocket-Version: 13";
        var upgrade = new[] { "Upgrade: websocket", "Connection: Upgrade", key, version };
        yield return new(c, "valid upgrade with A's ticket", Request("GET", $"/ws/{A}/socket", [BearerA, .. upgrade], close: false), Expectation.FromA(101));
        yield return new(c, "valid upgrade with A's session", Request("GET", $"/ws/{A}/socket", ["Cookie: gw_session=" + SessionA, .. upgrade], close: false), Expectation.FromA(101));
        yield return new(c, "valid upgrade without a credential", Request("GET", $"/ws/{A}/socket", upgrade, close: false), Expectation.Is(401));
        yield return new(c, "valid upgrade to B with A's ticket", Request("GET", $"/ws/{B}/socket", [BearerA, .. upgrade], close: false), Expectation.Is(403));
        yield return new(c, "upgrade to B with A's ticket in the query", Request("GET", $"/ws/{B}/socket?ticket={TicketA}", upgrade, close: false), Expectation.Is(403));
        yield return new(c, "upgrade with an expired ticket in the query", Request("GET", $"/ws/{A}/socket?ticket={TestTickets.Hs256(ClaimsA(TimeSpan.FromMinutes(-5)))}", upgrade, close: false), Expectation.Is(401));
        yield return new(c, "cross-site Origin (code-server refuses it)", Request("GET", $"/ws/{A}/socket", [BearerA, "Origin: http://evil.example", .. upgrade], close: false), Expectation.FromA(403));
        yield return new(c, "missing Sec-WebSocket-Key", Request("GET", $"/ws/{A}/socket", [BearerA, "Upgrade: websocket", "Connection: Upgrade", version]), Expectation.FromAOrRefused);
        yield return new(c, "short Sec-WebSocket-Key", Request("GET", $"/ws/{A}/socket", [BearerA, "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: abc", version]), Expectation.FromAOrRefused);
        yield return new(c, "version 8", Request("GET", $"/ws/{A}/socket", [BearerA, "Upgrade: websocket", "Connection: Upgrade", key, "Sec-WebSocket-Version: 8"]), Expectation.FromAOrRefused);
        yield return new(c, "Upgrade without Connection: Upgrade", Request("GET", $"/ws/{A}/socket", [BearerA, "Upgrade: websocket", key, version]), Expectation.FromAOrRefused);
        yield return new(c, "Connection: Upgrade without Upgrade", Request("GET", $"/ws/{A}/socket", [BearerA, "Connection: Upgrade", key, version]), Expectation.FromAOrRefused);
        yield return new(c, "upgrade on a POST with a body", Request("POST", $"/ws/{A}/socket", [BearerA, .. upgrade], "data", close: false), Expectation.FromAOrRefused);
        yield return new(c, "upgrade to h2c", Request("GET", $"/ws/{A}/", [BearerA, "Upgrade: h2c", "Connection: Upgrade, HTTP2-Settings", "HTTP2-Settings: AAMAAABkAAQAAP__"]), Expectation.FromAOrRefused);
        yield return new(c, "upgrade to websocket and h2c", Request("GET", $"/ws/{A}/socket", [BearerA, "Upgrade: websocket, h2c", "Connection: Upgrade", key, version], close: false), Expectation.FromAOrRefused);
        yield return new(c, "upgrade on HTTP/1.0", Request("GET", $"/ws/{A}/socket", [BearerA, .. upgrade], version: "HTTP/1.0"), Expectation.FromAOrRefused);
        yield return new(c, "two Sec-WebSocket-Keys", Request("GET", $"/ws/{A}/socket", [BearerA, .. upgrade, key]), Expectation.FromAOrRefused);
        yield return new(c, "upgrade to an unknown protocol", Request("GET", $"/ws/{A}/", [BearerA, "Upgrade: evil/1.0", "Connection: Upgrade"], close: false), Expectation.FromAOrRefused);
        yield return new(c, "upgrade then bytes for B before the handshake completes", Request("GET", $"/ws/{A}/socket", [BearerA, .. upgrade], close: false) + $"GET /ws/{B}/ HTTP/1.1\r\nHost: x\r\n\r\n", Expectation.FromA(101));
    }

    private static IEnumerable<HostileCase> Spoofing()
    {
        const string c = "spoofed headers";
        static bool Header(string text, string name, string value) =>
            text.Contains($"\"{name}\":\"{value}\"", StringComparison.Ordinal);

        yield return new(c, "X-Forwarded-For is replaced", Get($"/ws/{A}/", BearerA, "X-Forwarded-For: 6.6.6.6"), Expectation.EchoFromA("x-forwarded-for 127.0.0.1", t => Header(t, "x-forwarded-for", "127.0.0.1")));
        yield return new(c, "two X-Forwarded-For headers are replaced", Get($"/ws/{A}/", BearerA, "X-Forwarded-For: 6.6.6.6", "X-Forwarded-For: 7.7.7.7"), Expectation.EchoFromA("x-forwarded-for 127.0.0.1", t => Header(t, "x-forwarded-for", "127.0.0.1")));
        yield return new(c, "X-Forwarded-Proto is replaced", Get($"/ws/{A}/", BearerA, "X-Forwarded-Proto: https"), Expectation.EchoFromA("x-forwarded-proto http", t => Header(t, "x-forwarded-proto", "http")));
        yield return new(c, "X-Forwarded-Host is replaced", Get($"/ws/{A}/", BearerA, "X-Forwarded-Host: evil.example"), Expectation.EchoFromA("x-forwarded-host = Host", t => !t.Contains("evil.example", StringComparison.Ordinal)));
        yield return new(c, "X-Forwarded-Prefix is replaced", Get($"/ws/{A}/", BearerA, "X-Forwarded-Prefix: /ws/" + B), Expectation.EchoFromA("x-forwarded-prefix /ws/A", t => Header(t, "x-forwarded-prefix", "/ws/" + A)));
        yield return new(c, "Forwarded is removed", Get($"/ws/{A}/", BearerA, "Forwarded: for=6.6.6.6;host=evil.example;proto=https"), Expectation.EchoFromA("no forwarded header", t => !t.Contains("\"forwarded\"", StringComparison.Ordinal)));
        yield return new(c, "X-Forwarded-For with CRLF-looking text", Get($"/ws/{A}/", BearerA, "X-Forwarded-For: 1.1.1.1\\r\\nX-Admin: 1"), Expectation.EchoFromA("x-forwarded-for 127.0.0.1", t => Header(t, "x-forwarded-for", "127.0.0.1")));
        yield return new(c, "Host of another site travels as the client's Host", Get($"/ws/{A}/", BearerA, "Host: evil.example").Replace($"Host: {Host}\r\n", "", StringComparison.Ordinal), Expectation.EchoFromA("x-forwarded-host evil.example", t => Header(t, "x-forwarded-host", "evil.example")));
        // HttpRequest.Host decodes punycode and throws on a malformed label: the gateway reads the header as sent.
        yield return new(c, "Host with a malformed punycode label", Get($"/ws/{A}/", BearerA, "Host: xn--zz-.example").Replace($"Host: {Host}\r\n", "", StringComparison.Ordinal), Expectation.EchoFromA("x-forwarded-host as sent", t => Header(t, "x-forwarded-host", "xn--zz-.example")));
        yield return new(c, "no Host header on HTTP/1.1", Get($"/ws/{A}/", BearerA, "NO-HOST"), Expectation.Is(400));
        yield return new(c, "two Host headers", Get($"/ws/{A}/", BearerA, $"Host: {Host}", "Host: evil.example"), Expectation.Is(400));
        yield return new(c, "Host with a path", Get($"/ws/{A}/", BearerA, "Host: evil.example/ws/" + B), Expectation.Is(400));
        yield return new(c, "Host with user info", Get($"/ws/{A}/", BearerA, "Host: user@evil.example"), Expectation.Is(400));
        yield return new(c, "Host with a bad port", Get($"/ws/{A}/", BearerA, "Host: evil.example:99999x"), Expectation.Is(400));
        yield return new(c, "absolute-form target and a different Host", Get($"http://evil.example/ws/{A}/", BearerA, "Host: other.example"), Expectation.Refused);
        yield return new(c, "X-Original-URL naming B is ignored", Get($"/ws/{A}/", BearerA, $"X-Original-URL: /ws/{B}/"), Expectation.FromA());
        yield return new(c, "X-Rewrite-URL naming B is ignored", Get($"/ws/{A}/", BearerA, $"X-Rewrite-URL: /ws/{B}/"), Expectation.FromA());
        yield return new(c, "X-HTTP-Method-Override is passed, not obeyed", Request("GET", $"/ws/{A}/", [BearerA, "X-HTTP-Method-Override: DELETE"]), Expectation.FromA());
    }

    /// <summary>The workspace domain of <see cref="HostileGateway"/>; its origins name the lower-case sids below.</summary>
    public const string Domain = "ws.hostile";

    /// <summary>A and B again, under sids that are DNS labels, so they have origins of their own.</summary>
    public const string OriginA = "hostilea";
    public const string OriginB = "hostileb";

    /// <summary>No route (stopped), with port 3000 shared publicly.</summary>
    public const string Stopped = "hostilestopped";

    private static IEnumerable<HostileCase> Origins()
    {
        const string c = "workspace origins";
        var sessionA = "Cookie: gw_session=" + TestTickets.Session(OriginA, "attacker");
        var portTicketA = TestTickets.PortTicket(OriginA, 3000, "attacker", Valid);
        static string OnHost(string host, string target, params string[] headers) => Get(target, [$"Host: {host}", .. headers]);

        yield return new(c, "B's origin with A's cookie", OnHost($"{OriginB}.{Domain}", "/", sessionA), Expectation.Is(403));
        yield return new(c, "B's port with A's port ticket", OnHost($"3000--{OriginB}.{Domain}", $"/?ticket={portTicketA}"), Expectation.Is(403));
        yield return new(c, "A's private port with a port ticket", OnHost($"3000--{OriginA}.{Domain}", $"/?ticket={portTicketA}"), Expectation.Is(403));
        yield return new(c, "A's editor with a port ticket", OnHost($"{OriginA}.{Domain}", "/", "Authorization: Bearer " + portTicketA), Expectation.Is(403));
        yield return new(c, "a path naming B on A's origin stays in A", OnHost($"{OriginA}.{Domain}", $"/ws/{OriginB}/", sessionA), Expectation.FromA());
        yield return new(c, "B's origin in upper case", OnHost($"{OriginB.ToUpperInvariant()}.{Domain}", "/", sessionA), Expectation.Is(400));
        yield return new(c, "B's origin with a trailing dot", OnHost($"{OriginB}.{Domain}.", "/", sessionA), Expectation.Is(400));
        yield return new(c, "B's origin on another port", OnHost($"{OriginB}.{Domain}:8443", "/", sessionA), Expectation.Is(400));
        yield return new(c, "an empty label before the domain", OnHost($"{OriginB}..{Domain}", "/", sessionA), Expectation.Is(400));
        yield return new(c, "one label too many", OnHost($"{OriginA}.{OriginB}.{Domain}", "/", sessionA), Expectation.Is(400));
        yield return new(c, "a punycode label", OnHost($"xn--{OriginB}.{Domain}", "/", sessionA), Expectation.Is(400));
        yield return new(c, "a port label with a leading zero", OnHost($"03000--{OriginB}.{Domain}", "/", sessionA), Expectation.Is(400));
        yield return new(c, "a port label out of range", OnHost($"70000--{OriginB}.{Domain}", "/", sessionA), Expectation.Is(400));
        yield return new(c, "a sid valid on paths but not as a label", OnHost($"{B}.{Domain}", "/", sessionA), Expectation.Is(400));
        yield return new(c, "X-Forwarded-Host naming B's origin from an untrusted peer", Get($"/ws/{A}/", BearerA, $"X-Forwarded-Host: {OriginB}.{Domain}"), Expectation.FromA());
        yield return new(c, "a public link to a stopped workspace's port", OnHost($"3000--{Stopped}.{Domain}", "/"), Expectation.Is(404));
        yield return new(c, "a private link to a stopped workspace's port", OnHost($"8080--{Stopped}.{Domain}", "/"), Expectation.Is(401));
    }

    private static IEnumerable<HostileCase> SlowClients()
    {
        const string c = "slow clients";
        yield return new(c, "headers one byte every 300 ms (slowloris)", Get($"/ws/{A}/", BearerA, "X-Slow: " + new string('a', 60)), Expectation.Refused)
        {
            Write = async (stream, bytes, cancel) =>
            {
                foreach (var b in bytes)
                {
                    await stream.WriteAsync(new[] { b }, cancel);
                    await Task.Delay(300, cancel);
                }
            },
            Deadline = TimeSpan.FromSeconds(15),
        };
        yield return new(c, "request line and then silence", $"GET /ws/{A}/ HTTP/1.1\r\nHost: {Host}\r\n", Expectation.Refused)
        {
            Write = async (stream, bytes, cancel) =>
            {
                await stream.WriteAsync(bytes, cancel);
                await Task.Delay(Timeout.Infinite, cancel);
            },
            Deadline = TimeSpan.FromSeconds(15),
        };
        yield return new(c, "body promised and never sent", Request("POST", $"/ws/{A}/upload", [BearerA, "Content-Length: 100000"], close: false), Expectation.Refused)
        {
            Write = async (stream, bytes, cancel) =>
            {
                await stream.WriteAsync(bytes, cancel);
                await stream.WriteAsync("0123456789"u8.ToArray(), cancel);
                await Task.Delay(Timeout.Infinite, cancel);
            },
            Deadline = TimeSpan.FromSeconds(20),
        };
    }

    /// <summary>RFC 9112 §6.1/§6.3: framing that is processed must end the connection after the response.</summary>
    private static Expectation ClosedAfter(Expectation inner) => new(
        inner.Description + ", then the connection closed", e => inner.Holds(e) && e.Statuses.Count <= 1 && (e.Statuses.Count == 0 || e.Text.Contains("Connection: close", StringComparison.OrdinalIgnoreCase)));

    private static JsonObject With(JsonObject claims, string name, JsonNode? value)
    {
        claims[name] = value;
        return claims;
    }

    private static JsonObject Without(JsonObject claims, string name)
    {
        claims.Remove(name);
        return claims;
    }
}
