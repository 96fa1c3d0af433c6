using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Bench.Servers;

namespace Bench.Load;

/// <param name="ServerCpuMicrosecondsPerRequest">
/// CPU time the measured server spent per request (user + system, from /proc): insensitive to how busy the
/// machine's neighbours are, so it is the steadiest figure for comparing targets across runs.
/// </param>
internal sealed record WrkRun(double RequestsPerSecond, double P50, double P99, long Errors, double? ServerCpuMicrosecondsPerRequest);

/// <summary>An independent measurement of the closed-loop HTTP figure, by a generator we did not write.</summary>
internal static partial class Wrk
{
    /// <param name="script">A wrk Lua script (e.g. a request body); none for plain GETs.</param>
    /// <param name="host">A Host header (host-based routing), with the cookie for <paramref name="hostSid"/>.</param>
    public static async Task<WrkRun?> RunAsync(Target target, PinnedProcess? server, int connections, TimeSpan duration, int core, string? path = null, int? port = null, string? script = null, string? host = null, string? hostSid = null)
    {
        path ??= target.HttpPath;
        var start = new ProcessStartInfo("taskset", ["-c", $"{core}", "wrk", "-t1", $"-c{connections}", $"-d{(int)Math.Max(1, duration.TotalSeconds)}s", "--latency"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (host is not null)
        {
            start.ArgumentList.Add("-H");
            start.ArgumentList.Add("Host: " + host);
        }

        if ((hostSid is null ? BenchCredentials.CookieFor(path) : BenchCredentials.CookieForSid(hostSid)) is { } cookie)
        {
            start.ArgumentList.Add("-H");
            start.ArgumentList.Add("Cookie: " + cookie);
        }

        if (script is not null)
        {
            start.ArgumentList.Add("-s");
            start.ArgumentList.Add(script);
        }

        start.ArgumentList.Add($"http://127.0.0.1:{port ?? target.Port}{path}");
        var cpuBefore = server?.CpuTime();
        using var process = Process.Start(start);
        if (process is null)
        {
            return null;
        }

        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        var cpuAfter = server?.CpuTime();
        var rps = RequestsPerSecond().Match(output);
        var total = TotalRequests().Match(output);
        if (!rps.Success || !total.Success)
        {
            return null;
        }

        var requests = long.Parse(total.Groups[1].Value, CultureInfo.InvariantCulture);
        double? cpuPerRequest = cpuBefore is { } before && cpuAfter is { } after && requests > 0
            ? Math.Round((after - before).TotalMicroseconds / requests, 2)
            : null;

        var errors = NonSuccess().Match(output) is { Success: true } m ? long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
        return new WrkRun(double.Parse(rps.Groups[1].Value, CultureInfo.InvariantCulture), Percentile(output, "50%"), Percentile(output, "99%"), errors, cpuPerRequest);
    }

    private static double Percentile(string output, string label)
    {
        var match = Regex.Match(output, $@"^\s*{Regex.Escape(label)}\s+([\d.]+)(us|ms|s)\s*$", RegexOptions.Multiline);
        if (!match.Success)
        {
            return double.NaN;
        }

        var value = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        return match.Groups[2].Value switch { "us" => value / 1000, "s" => value * 1000, _ => value };
    }

    [GeneratedRegex(@"Requests/sec:\s+([\d.]+)")]
    private static partial Regex RequestsPerSecond();

    [GeneratedRegex(@"(\d+) requests in")]
    private static partial Regex TotalRequests();

    [GeneratedRegex(@"Non-2xx or 3xx responses:\s+(\d+)")]
    private static partial Regex NonSuccess();
}
