namespace Gateway.Tests.FastPath;

/// <summary>
/// Request heads for the fast path's differential tests: real ones, and each mutated the ways smuggling and
/// parser-confusion attacks do (whitespace, folding, bare CR and LF, controls, obs-text, duplicate and odd Host,
/// framing fields, dot segments and percent-encoding, odd names, long and many fields).
/// </summary>
internal static class RequestHeadCorpus
{
    /// <summary>Heads as browsers and scripts send them to the gateway.</summary>
    public static readonly string[] Browsers =
    [
        "GET /ws/ws-abc/ HTTP/1.1\r\nHost: gateway.example.com\r\nUser-Agent: Mozilla/5.0\r\nAccept: text/html,*/*;q=0.8\r\nCookie: gw_session=eyJ.a.b; theme=dark\r\nConnection: keep-alive\r\n\r\n",
        "GET /ws/ws-abc/static/out/vs/loader.js?v=1.2&x=%20y HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nAccept: */*\r\nAccept-Encoding: gzip, deflate, br\r\nSec-Fetch-Mode: no-cors\r\nReferer: http://127.0.0.1:8080/ws/ws-abc/\r\n\r\n",
        "HEAD /proxy/3000/ HTTP/1.1\r\nHost: ws-abc.ide.example.com\r\nIf-None-Match: \"abc\"\r\nX-Requested-With: fetch\r\n\r\n",
        "GET /api/items?page=2&sort=-date HTTP/1.1\r\nHost: 3000--ws-abc.ide.example.com:443\r\nAuthorization: Bearer abc.def\r\nAccept: application/json\r\nAccept-Language: en-GB,en;q=0.9\r\n\r\n",
    ];

    /// <summary><paramref name="bases"/>, and each mutated many ways, deterministically.</summary>
    public static IEnumerable<string> Generate(IEnumerable<string> bases)
    {
        var random = new Random(20261205);
        foreach (var request in bases)
        {
            yield return request;
            foreach (var mutate in Mutations)
            {
                for (var i = 0; i < 8; i++)
                {
                    yield return mutate(request, random);
                }
            }
        }
    }

    private static readonly Func<string, Random, string>[] Mutations =
    [
        (r, _) => r.Replace("\r\nAccept", "\r\nAccept:", StringComparison.Ordinal),
        (r, x) => InsertInValue(r, x, Pick(x, " ", "\t", "  ", " \t ")),
        (r, x) => InsertInValue(r, x, ((char)x.Next(0, 32)).ToString()),
        (r, x) => InsertInValue(r, x, ((char)x.Next(0x7F, 0x100)).ToString()),
        (r, x) => InsertInValue(r, x, Pick(x, "\r", "\n", "\0", "\r\n ", "\r\n\t")),
        (r, x) => InsertInName(r, x, Pick(x, " ", "\t", "(", "/", "@", "!", "#", "'", "~", "|", "_", ".")),
        (r, x) => AddField(r, x, Pick(x, "Host: other.example", "Host: ", "Host: a b", "Host: [::1]", "Host: h:99999", "Host: h_1.example", "Host: h.example.", "Host: -h", "Host: h:80:80", "Host: h:")),
        (r, x) => AddField(r, x, Pick(x, "Content-Length: 0", "Content-Length: +0", "Content-Length: 00", "Transfer-Encoding: chunked", "Transfer-Encoding: identity", "Upgrade: websocket", "Connection: close", "Connection: Keep-Alive", "Connection: keep-alive, upgrade", "Expect: 100-continue", "TE: trailers")),
        (r, x) => AddField(r, x, Pick(x, "X-Empty:", "X-Spaces:    ", "X-Tab:\tv\t", "x-lower: v", "X-Colon: a:b:c", "X-Quote: \"q\"", "X-Long: " + new string('v', x.Next(100, 9000)), "X-Semi: ;;;", "!#$%&'*+-.^_`|~: token-chars")),
        (r, x) => AddField(r, x, string.Join("\r\n", Enumerable.Range(0, x.Next(90, 110)).Select(i => $"X-F{i}: {i}"))),
        (r, x) => ReplaceTarget(r, x, Pick(x, "/ws/ws-abc/../b/", "/ws/ws-abc/./b", "/ws/%77s/ws-abc/", "/ws//ws-abc/", "/ws\\ws-abc/", "/ws/ws-abc/..", "/ws/ws-abc/a%2Fb", "/ws/ws-abc/#frag", "/ws/ws-abc/?q=../x", "/ws/ws-abc/?q=%zz", "/ws/ws-abc/?q=\"a\"", "*", "http://h/ws/ws-abc/", "/ws/ws-abc/\u007f", "/" + new string('p', x.Next(8000, 17000)))),
        (r, x) => ReplaceRequestLineSpace(r, x, Pick(x, "  ", "\t", " \t")),
        (r, x) => r.Replace(" HTTP/1.1\r\n", Pick(x, " HTTP/1.0\r\n", " http/1.1\r\n", " HTTP/1.1 \r\n", " HTTP/1.10\r\n", "HTTP/1.1\r\n"), StringComparison.Ordinal),
        (r, x) => Pick(x, "get", "Get", "HEAD", "POST", "OPTIONS", "G E T") + r[r.IndexOf(' ', StringComparison.Ordinal)..],
        (r, x) => Pick(x, "\r\n", "\n", " ") + r,
        (r, x) => r.Replace("\r\n", Pick(x, "\n", "\r\n"), StringComparison.Ordinal),
        (r, x) => x.Next(2) == 0 ? r.ToUpperInvariant() : r.ToLowerInvariant(),
    ];

    private static string Pick(Random random, params string[] choices) => choices[random.Next(choices.Length)];

    private static string AddField(string request, Random random, string field)
    {
        var lines = request[..^4].Split("\r\n").ToList();
        lines.Insert(random.Next(1, lines.Count + 1), field);
        return string.Join("\r\n", lines) + "\r\n\r\n";
    }

    private static string InsertInValue(string request, Random random, string text)
    {
        var lines = request[..^4].Split("\r\n");
        var index = random.Next(1, lines.Length);
        var colon = lines[index].IndexOf(':', StringComparison.Ordinal);
        var at = random.Next(colon + 1, lines[index].Length + 1);
        lines[index] = lines[index].Insert(at, text);
        return string.Join("\r\n", lines) + "\r\n\r\n";
    }

    private static string InsertInName(string request, Random random, string text)
    {
        var lines = request[..^4].Split("\r\n");
        var index = random.Next(1, lines.Length);
        var colon = lines[index].IndexOf(':', StringComparison.Ordinal);
        lines[index] = lines[index].Insert(random.Next(0, colon + 1), text);
        return string.Join("\r\n", lines) + "\r\n\r\n";
    }

    private static string ReplaceTarget(string request, Random random, string target)
    {
        _ = random;
        var first = request.IndexOf(' ', StringComparison.Ordinal);
        var second = request.IndexOf(" HTTP/", StringComparison.Ordinal);
        return request[..(first + 1)] + target + request[second..];
    }

    private static string ReplaceRequestLineSpace(string request, Random random, string space) =>
        random.Next(2) == 0
            ? request[..request.IndexOf(' ', StringComparison.Ordinal)] + space + request[(request.IndexOf(' ', StringComparison.Ordinal) + 1)..]
            : request.Replace(" HTTP/1.1", space + "HTTP/1.1", StringComparison.Ordinal);
}
