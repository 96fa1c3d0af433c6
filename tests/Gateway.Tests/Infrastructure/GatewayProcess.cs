using System.Collections.Concurrent;
using System.Diagnostics;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// The gateway as operators run it: its own process with gateway.json beside the binary, stdout captured
/// line by line, stopped by PID.
/// </summary>
public sealed partial class GatewayProcess : IAsyncDisposable
{
    private static readonly string GatewayDll = Path.Combine(AppContext.BaseDirectory, "Gateway.dll");

    private GatewayProcess(Process process)
    {
        Process = process;
    }

    public Process Process { get; }

    /// <summary>Addressed to where the gateway listens; known once <see cref="WhenServingAsync{T}"/> has returned.</summary>
    public HttpClient Client { get; } = new();

    public ConcurrentQueue<string> Output { get; } = new();

    /// <summary>The log lines so far as (level, message): the JSON console lines decoded, so quotes read as written.</summary>
    public IEnumerable<(string Level, string Message)> LogEntries =>
        Output.Where(line => line.StartsWith('{')).Select(line =>
        {
            using var entry = System.Text.Json.JsonDocument.Parse(line);
            return (entry.RootElement.GetProperty("LogLevel").GetString()!, entry.RootElement.GetProperty("Message").GetString()!);
        }).ToList();

    /// <summary>The first log entry whose message contains <paramref name="text"/>, or null.</summary>
    public (string Level, string Message)? FindLog(string text) =>
        LogEntries.Where(entry => entry.Message.Contains(text, StringComparison.Ordinal)).Cast<(string, string)?>().FirstOrDefault();

    /// <param name="environment">Variables to set; a null value removes one inherited from the test run.</param>
    public static GatewayProcess Start(params (string Name, string? Value)[] environment)
    {
        // Port 0 and the address read back from the log: no race with other tests for a "free" port.
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { GatewayDll, "--urls", "http://127.0.0.1:0" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetTempPath(),
        };
        // As in GatewayHost: access checks are off unless a test turns them on.
        start.Environment["Gateway__Auth__Mode"] = "None";
        foreach (var (name, value) in environment)
        {
            if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("gateway did not start");
        var gateway = new GatewayProcess(process);
        process.OutputDataReceived += (_, line) =>
        {
            if (line.Data is not null)
            {
                gateway.Output.Enqueue(line.Data);
            }
        };
        process.BeginOutputReadLine();
        return gateway;
    }

    /// <summary>Waits until the gateway listens (30 s at most), then retries <paramref name="attempt"/> until it succeeds.</summary>
    public async Task<T> WhenServingAsync<T>(Func<HttpClient, Task<T>> attempt)
    {
        var clock = Stopwatch.StartNew();
        while (Client.BaseAddress is null)
        {
            var listening = Output.Select(line => ListeningOn().Match(line)).FirstOrDefault(match => match.Success);
            if (listening is not null)
            {
                Client.BaseAddress = new Uri(listening.Groups[1].Value);
                break;
            }

            if (Process.HasExited || clock.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new InvalidOperationException(
                    $"gateway not listening (exited: {Process.HasExited}); output:\n{string.Join('\n', Output)}\n{(Process.HasExited ? await Process.StandardError.ReadToEndAsync() : "")}");
            }

            await Task.Delay(50);
        }

        while (true)
        {
            try
            {
                return await attempt(Client);
            }
            catch (HttpRequestException) when (clock.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(100);
            }
        }
    }

    /// <summary>Lines containing <paramref name="text"/>, counted after <paramref name="settle"/> for the console logger's queue to drain.</summary>
    public async Task<int> CountLinesAsync(string text, TimeSpan settle)
    {
        await Task.Delay(settle);
        return Output.Count(line => line.Contains(text, StringComparison.Ordinal));
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"Now listening on: (http://[^""\s]+)")]
    private static partial System.Text.RegularExpressions.Regex ListeningOn();

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        if (!Process.HasExited)
        {
            Process.Kill(entireProcessTree: true);
        }

        await Process.WaitForExitAsync();
        Process.Dispose();
    }
}
