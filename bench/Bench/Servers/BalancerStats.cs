namespace Bench.Servers;

/// <summary>HAProxy's own view of its servers (the statistics page's CSV): whether it sends to a replica.</summary>
internal sealed class BalancerStats(int statsPort) : IDisposable
{
    private readonly HttpClient _client = new() { Timeout = TimeSpan.FromSeconds(2) };

    /// <summary>Status of each server of the gateways backend ("UP", "DOWN", "UP 1/2" while rising ...).</summary>
    public async Task<Dictionary<string, string>> StatusAsync() => (await ServersAsync()).ToDictionary(s => s.Key, s => s.Value.Status, StringComparer.Ordinal);

    /// <summary>Status and the last health check's result ("L7OK" once a probe of /readyz answered 200) of each server.</summary>
    private async Task<Dictionary<string, (string Status, string Check)>> ServersAsync()
    {
        var csv = await _client.GetStringAsync($"http://127.0.0.1:{statsPort}/stats;csv");
        var lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var header = lines[0].TrimStart('#', ' ').Split(',');
        var name = Array.IndexOf(header, "svname");
        var status = Array.IndexOf(header, "status");
        var proxy = Array.IndexOf(header, "pxname");
        var check = Array.IndexOf(header, "check_status");
        return lines.Skip(1)
            .Select(l => l.Split(','))
            .Where(f => f[proxy] == "gateways" && f[name] is not ("BACKEND" or "FRONTEND"))
            .ToDictionary(f => f[name], f => (f[status], f[check]), StringComparer.Ordinal);
    }

    /// <summary>
    /// Waits until HAProxy sends to <paramref name="replica"/> after a readiness probe said yes (a server starts "UP"
    /// before its first probe: a gateway still connecting to Redis would be taken out by that probe); how long that took.
    /// </summary>
    public async Task<TimeSpan> WaitUntilUpAsync(string replica, TimeSpan timeout)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if ((await ServersAsync()).GetValueOrDefault(replica) is ("UP", "L7OK"))
            {
                return clock.Elapsed;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"HAProxy did not take {replica} back within {timeout}");
    }

    public void Dispose() => _client.Dispose();
}
