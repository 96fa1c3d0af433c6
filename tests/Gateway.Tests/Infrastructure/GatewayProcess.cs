using System.Collections.Concurrent;
using System.Diagnostics;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// The gateway as operators run it: its own process with gateway.json beside the binary, stdout captured
/// line by line, stopped by PID.
/// </summary>
public sealed class GatewayProcess : IAsyncDisposable
{
    private static readonly string GatewayDll = Path.Combine(AppContext.BaseDirectory, "Gateway.dll");

    private GatewayProcess(Process process, int port)
    {
        Process = process;
        Client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
    }

    public Process Process { get; }

    public HttpClient Client { get; }

    public ConcurrentQueue<string> Output { get; } = new();

    /// <param name="environment">Variables to set; a null value removes one inherited from the test run.</param>
    public static GatewayProcess Start(params (string Name, string? Value)[] environment)
    {
        var port = FreePort.Next();
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { GatewayDll, "--urls", $"http://127.0.0.1:{port}" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetTempPath(),
        };
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
        var gateway = new GatewayProcess(process, port);
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

    /// <summary>Retries <paramref name="attempt"/> until the gateway accepts connections (30 s at most).</summary>
    public async Task<T> WhenServingAsync<T>(Func<HttpClient, Task<T>> attempt)
    {
        var clock = Stopwatch.StartNew();
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

    /// <summary>Lines containing <paramref name="text"/>, waiting up to <paramref name="settle"/> for the console logger's queue.</summary>
    public async Task<int> CountLinesAsync(string text, TimeSpan settle)
    {
        await Task.Delay(settle);
        return Output.Count(line => line.Contains(text, StringComparison.Ordinal));
    }

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
