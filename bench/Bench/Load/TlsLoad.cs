using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Bench.Servers;

namespace Bench.Load;

/// <summary>New TLS connections per second, one after another (<c>openssl s_time</c>), and the server's CPU per handshake.</summary>
internal sealed record HandshakeRun(double HandshakesPerSecond, long Handshakes, double? ServerCpuMicrosecondsPerHandshake);

/// <summary>Keep-alive HTTPS requests by <c>h2load</c>: req/s, the server's CPU per request, failures.</summary>
internal sealed record H2loadRun(string Protocol, int Connections, int StreamsPerConnection, double RequestsPerSecond, long Succeeded, long Failed, double? ServerCpuMicrosecondsPerRequest);

/// <summary>Everything measured over TLS for one target.</summary>
internal sealed record TlsRun(HandshakeRun? New, HandshakeRun? Resumed, H2loadRun? Http1, H2loadRun? Http2, EchoRun? WebSocket, string WebSocketProtocol);

/// <summary>
/// TLS at the edge, measured with generators we did not write (OpenSSL's <c>s_time</c>, nghttp2's <c>h2load</c>)
/// on the generator's core, against the same certificate and protocols on every target.
/// </summary>
internal static partial class TlsLoad
{
    public static async Task<HandshakeRun?> HandshakesAsync(Target target, bool resume, TimeSpan duration, int core)
    {
        // Only the handshake and the close: no request, so the figure is TLS alone. -reuse resumes the first
        // session for every later connection; s_time closes before a TLS 1.3 ticket arrives, so resumption is
        // measured on TLS 1.2 (a session ticket), full handshakes on TLS 1.3 as browsers make them.
        string[] arguments = ["-c", $"{core}", "openssl", "s_time", "-connect", $"127.0.0.1:{target.TlsPort}", resume ? "-reuse" : "-new", resume ? "-tls1_2" : "-tls1_3", "-time", $"{(int)Math.Max(1, duration.TotalSeconds)}"];
        var (output, elapsed, cpu) = await RunAsync("taskset", arguments, target.Process);
        var lines = Connections().Matches(output);
        if (lines.Count == 0)
        {
            return null;
        }

        // -reuse prints the first (full) connection's line, then the timed ones: the last line counts.
        var handshakes = long.Parse(lines[^1].Groups[1].Value, CultureInfo.InvariantCulture);
        return new HandshakeRun(handshakes / elapsed.TotalSeconds, handshakes, cpu is { } c && handshakes > 0 ? Math.Round(c.TotalMicroseconds / handshakes, 1) : null);
    }

    /// <param name="streams">Concurrent streams per connection (HTTP/2); HTTP/1.1 when null.</param>
    public static async Task<H2loadRun?> KeepAliveAsync(Target target, int connections, int? streams, TimeSpan duration, int core)
    {
        var arguments = new List<string> { "-c", $"{core}", "h2load", "-c", $"{connections}", "-D", $"{(int)Math.Max(1, duration.TotalSeconds)}", "--warm-up-time=1" };
        arguments.AddRange(streams is { } m ? ["-m", $"{m}"] : ["--h1"]);
        if (BenchCredentials.CookieFor(target.HttpPath) is { } cookie)
        {
            arguments.AddRange(["-H", "Cookie: " + cookie]);
        }

        arguments.Add($"https://127.0.0.1:{target.TlsPort}{target.HttpPath}");
        var (output, _, cpu) = await RunAsync("taskset", [.. arguments], target.Process);
        var finished = Finished().Match(output);
        var requests = Requests().Match(output);
        if (!finished.Success || !requests.Success)
        {
            return null;
        }

        var succeeded = long.Parse(requests.Groups[1].Value, CultureInfo.InvariantCulture);
        var failed = long.Parse(requests.Groups[2].Value, CultureInfo.InvariantCulture) + long.Parse(requests.Groups[3].Value, CultureInfo.InvariantCulture);
        if (StatusCodes().Match(output) is { Success: true } codes)
        {
            // A 4xx or 5xx "succeeded" for h2load; not for us.
            var refused = long.Parse(codes.Groups[1].Value, CultureInfo.InvariantCulture) + long.Parse(codes.Groups[2].Value, CultureInfo.InvariantCulture);
            succeeded -= refused;
            failed += refused;
        }

        return new H2loadRun(streams is null ? "HTTP/1.1" : "HTTP/2", connections, streams ?? 1, double.Parse(finished.Groups[1].Value, CultureInfo.InvariantCulture), succeeded, failed,
            cpu is { } c && succeeded > 0 ? Math.Round(c.TotalMicroseconds / succeeded, 2) : null);
    }

    private static async Task<(string Output, TimeSpan Elapsed, TimeSpan? ServerCpu)> RunAsync(string file, string[] arguments, PinnedProcess? server)
    {
        var start = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        var cpuBefore = server?.CpuTime();
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start");
        var error = process.StandardError.ReadToEndAsync();
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        var elapsed = clock.Elapsed;
        var cpuAfter = server?.CpuTime();
        return (output + await error, elapsed, cpuBefore is { } before && cpuAfter is { } after ? after - before : null);
    }

    [GeneratedRegex(@"(\d+) connections in [\d.]+s;")]
    private static partial Regex Connections();

    [GeneratedRegex(@"finished in [\d.]+m?s, ([\d.]+) req/s")]
    private static partial Regex Finished();

    [GeneratedRegex(@"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored")]
    private static partial Regex Requests();

    [GeneratedRegex(@"status codes: \d+ 2xx, \d+ 3xx, (\d+) 4xx, (\d+) 5xx")]
    private static partial Regex StatusCodes();
}
