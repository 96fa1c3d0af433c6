using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Configuration;

/// <summary>The gateway as operators run it: its own process, gateway.json beside the binary, environment overrides.</summary>
public sealed class GatewayProcessTests(GatewayWithBackends env) : IClassFixture<GatewayWithBackends>
{
    private static readonly string GatewayDll = Path.Combine(AppContext.BaseDirectory, "Gateway.dll");

    [Fact]
    public async Task It_starts_from_the_shipped_config_with_redis_overridden_by_environment()
    {
        var sid = await env.RouteAsync(env.A);
        var port = FreePort.Next();
        using var process = Start(port, ("Gateway__Redis__Configuration", env.Redis.Configuration));
        try
        {
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            var echo = await WaitForAsync(async () => (await client.GetFromJsonAsync<EchoReply>(new Uri($"/ws/{sid}/x", UriKind.Relative)))!);
            Assert.Equal("A", echo.Backend);
            Assert.Equal("/x", echo.RawTarget);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    [Fact]
    public async Task Invalid_settings_stop_start_up_with_the_key_named()
    {
        using var process = Start(FreePort.Next(), ("Gateway__Routes__SidMaxLength", "0"), ("Gateway__Forwarding__ConnectTimeout", "-00:00:01"));
        var stderr = process.StandardError.ReadToEndAsync();

        var exited = process.WaitForExitAsync();
        if (await Task.WhenAny(exited, Task.Delay(TimeSpan.FromSeconds(30))) != exited)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("the gateway kept running with invalid settings");
        }

        Assert.Equal(2, process.ExitCode);
        var message = await stderr;
        Assert.Contains("Gateway:Routes:SidMaxLength", message, StringComparison.Ordinal);
        Assert.Contains("Gateway:Forwarding:ConnectTimeout", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData("1", false)]
    public async Task On_one_cpu_it_advises_the_tier_up_setting_unless_it_is_set(string? multiplier, bool advised)
    {
        var port = FreePort.Next();
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var process = Start(port, output, ("Gateway__Redis__Configuration", env.Redis.Configuration), ("DOTNET_PROCESSOR_COUNT", "1"),
            ("DOTNET_TC_DelaySingleProcMultiplier", multiplier));
        try
        {
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            await WaitForAsync(() => client.GetAsync(new Uri("/", UriKind.Relative)));

            // Logged before the server listens; the console logger writes from its own queue, so allow it a moment.
            var clock = Stopwatch.StartNew();
            bool Advised() => output.Any(line => line.Contains("DOTNET_TC_DelaySingleProcMultiplier", StringComparison.Ordinal));
            while (!Advised() && clock.Elapsed < TimeSpan.FromSeconds(2))
            {
                await Task.Delay(50);
            }

            Assert.Equal(advised, Advised());
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    private static Process Start(int port, params (string Name, string? Value)[] environment) => Start(port, output: null, environment);

    private static Process Start(int port, System.Collections.Concurrent.ConcurrentQueue<string>? output, params (string Name, string? Value)[] environment)
    {
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
        process.OutputDataReceived += (_, line) =>
        {
            if (line.Data is not null)
            {
                output?.Enqueue(line.Data);
            }
        };
        process.BeginOutputReadLine();
        return process;
    }

    private static async Task<T> WaitForAsync<T>(Func<Task<T>> attempt)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return await attempt();
            }
            catch (HttpRequestException) when (clock.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(100);
            }
        }
    }
}
