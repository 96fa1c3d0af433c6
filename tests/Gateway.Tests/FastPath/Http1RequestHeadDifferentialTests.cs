using System.Net;
using System.Net.Sockets;
using System.Text;
using Gateway.Configuration;
using Gateway.FastPath;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.FastPath;

/// <summary>
/// The fast path's reader against Kestrel's, the one that reads every request the fast path declines: request
/// heads generated from a browser's and mutated the ways smuggling and parser-confusion attacks do (whitespace,
/// folding, bare CR and LF, controls, obs-text, duplicate and odd Host, framing fields, dot segments and
/// percent-encoding, odd names, long and many fields) go to a real Kestrel with the gateway's limits. Whatever
/// the fast path takes, Kestrel must take too and read the same way: the same target, Host and fields.
/// </summary>
public sealed class Http1RequestHeadDifferentialTests : IAsyncLifetime
{
    private static readonly LimitsOptions GatewayLimits = new();
    private WebApplication? _kestrel;
    private int _port;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // As the gateway configures it (GatewayServiceCollectionExtensions).
            kestrel.Limits.MaxRequestHeadersTotalSize = GatewayLimits.MaxRequestHeadersTotalSize;
            kestrel.Limits.MaxRequestHeaderCount = GatewayLimits.MaxRequestHeaderCount;
            kestrel.Limits.MaxRequestLineSize = GatewayLimits.MaxRequestLineSize;
            kestrel.RequestHeaderEncodingSelector = Gateway.Forwarding.ContentLengthDigits.Select;
        });
        _kestrel = builder.Build();
        _kestrel.Run(async context =>
        {
            // What the gateway would route and forward: the raw target and every field as Kestrel read it.
            var seen = new StringBuilder();
            // The path the gateway routes on is Kestrel's decoded, dot-segment-free one; the fast path routes on the raw.
            seen.Append(context.Request.Method).Append('\n').Append(context.Features.Get<IHttpRequestFeature>()!.RawTarget).Append('\n')
                .Append(context.Request.PathBase).Append(context.Request.Path).Append('\n');
            foreach (var (name, values) in context.Request.Headers.OrderBy(h => h.Key, StringComparer.OrdinalIgnoreCase))
            {
                seen.Append(name.ToLowerInvariant()).Append('=').Append(string.Join('\u0001', values.ToArray())).Append('\n');
            }

            // In a header, so HEAD answers carry it too.
            context.Response.Headers["X-Seen"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(seen.ToString()));
            context.Response.ContentLength = 0;
            await Task.CompletedTask;
        });
        await _kestrel.StartAsync();
        _port = new Uri(_kestrel.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;
    }

    public async Task DisposeAsync()
    {
        if (_kestrel is not null)
        {
            await _kestrel.DisposeAsync();
        }
    }

    [Fact]
    public async Task Every_head_the_fast_path_takes_Kestrel_takes_and_reads_the_same_way()
    {
        var limits = Http1HeadLimits.From(GatewayLimits);
        var taken = 0;
        var declined = 0;
        var failures = new List<string>();
        foreach (var request in RequestHeadCorpus.Generate(RequestHeadCorpus.Browsers))
        {
            var bytes = Encoding.Latin1.GetBytes(request);
            if (Http1RequestHead.TryParse(bytes, limits, out var head) != HeadParse.Taken)
            {
                declined++;
                continue;
            }

            taken++;
            var expected = Expected(bytes, head);
            head.Return();
            var (status, body) = await SendAsync(bytes);
            if (status != 200 || body != expected)
            {
                failures.Add($"{HeadText.Show(request)}\n  Kestrel: {status} {HeadText.Show(body)}\n  fast path: {HeadText.Show(expected)}");
            }
        }

        Assert.True(failures.Count == 0, $"{failures.Count} of {taken} taken heads read differently by Kestrel:\n" + string.Join("\n", failures.Take(10)));

        // The subset is not empty talk: the browser-like heads and their harmless variants are taken.
        Assert.True(taken >= 100 && declined >= 100, $"taken {taken}, declined {declined}");
    }

    private static string Expected(byte[] bytes, Http1RequestHead head)
    {
        var fields = head.Fields.Take(head.FieldCount)
            .GroupBy(f => Encoding.ASCII.GetString(bytes[f.Name]).ToLowerInvariant())
            .OrderBy(g => g.Key, StringComparer.OrdinalIgnoreCase)
            .Select(g => $"{g.Key}={string.Join('\u0001', g.Select(f => Value(g.Key, Encoding.ASCII.GetString(bytes[f.Value]))))}\n");
        var target = Encoding.ASCII.GetString(bytes[head.Target]);
        var path = target.Split('?')[0];
        return $"{(head.IsHead ? "HEAD" : "GET")}\n{target}\n{path}\n{string.Concat(fields)}";
    }

    // Kestrel hands a known value in its own spelling (Connection: KEEP-ALIVE reads as keep-alive): same meaning.
    private static string Value(string name, string value) => name == "connection" ? value.ToLowerInvariant() : value;

    private async Task<(int Status, string Body)> SendAsync(byte[] request)
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(IPAddress.Loopback, _port, cancel.Token);
        await socket.SendAsync(request, SocketFlags.None, cancel.Token);

        // One answer, read to its length (Kestrel keeps the connection; a half-close would end it unanswered).
        var received = new MemoryStream();
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var read = await socket.ReceiveAsync(buffer, SocketFlags.None, cancel.Token);
                if (read == 0)
                {
                    break;
                }

                received.Write(buffer, 0, read);
                var sofar = Encoding.Latin1.GetString(received.ToArray());
                var end = sofar.IndexOf("\r\n\r\n", StringComparison.Ordinal);
                var length = System.Text.RegularExpressions.Regex.Match(sofar, "(?im)^Content-Length: *(\\d+)");
                if (end >= 0 && (!length.Success || sofar.Length >= end + 4 + int.Parse(length.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)))
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            // Reset or silence: what arrived is the answer.
        }

        var text = Encoding.Latin1.GetString(received.ToArray());
        if (!text.StartsWith("HTTP/1.1 ", StringComparison.Ordinal))
        {
            return (0, text);
        }

        var status = int.Parse(text.AsSpan(9, 3), System.Globalization.CultureInfo.InvariantCulture);
        var seen = System.Text.RegularExpressions.Regex.Match(text, "(?m)^X-Seen: ([^\r]*)\r$");
        return (status, seen.Success ? Encoding.UTF8.GetString(Convert.FromBase64String(seen.Groups[1].Value)) : "");
    }

}
