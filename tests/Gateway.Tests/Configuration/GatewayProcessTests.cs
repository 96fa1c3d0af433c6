using System.Diagnostics;
using System.Net.Http.Json;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Configuration;

/// <summary>The gateway as operators run it: its own process, gateway.json beside the binary, environment overrides.</summary>
public sealed class GatewayProcessTests(GatewayWithBackends env) : IClassFixture<GatewayWithBackends>
{
    [Fact]
    public async Task It_starts_from_the_shipped_config_with_redis_overridden_by_environment()
    {
        var sid = await env.RouteAsync(env.A);
        await using var gateway = GatewayProcess.Start(("Gateway__Redis__Configuration", env.Redis.Configuration));

        var echo = await gateway.WhenServingAsync(async client => (await client.GetFromJsonAsync<EchoReply>(new Uri($"/ws/{sid}/x", UriKind.Relative)))!);
        Assert.Equal("A", echo.Backend);
        Assert.Equal("/x", echo.RawTarget);
    }

    [Fact]
    public async Task Invalid_settings_stop_start_up_with_the_key_named()
    {
        await using var gateway = GatewayProcess.Start(("Gateway__Routes__SidMaxLength", "0"), ("Gateway__Forwarding__ConnectTimeout", "-00:00:01"));
        var stderr = gateway.Process.StandardError.ReadToEndAsync();

        var exited = gateway.Process.WaitForExitAsync();
        if (await Task.WhenAny(exited, Task.Delay(TimeSpan.FromSeconds(30))) != exited)
        {
            Assert.Fail("the gateway kept running with invalid settings");
        }

        Assert.Equal(2, gateway.Process.ExitCode);
        var message = await stderr;
        Assert.Contains("Gateway:Routes:SidMaxLength", message, StringComparison.Ordinal);
        Assert.Contains("Gateway:Forwarding:ConnectTimeout", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_settings_file_that_is_not_there_stops_start_up_with_where_it_was_looked_for()
    {
        await using var gateway = GatewayProcess.Start(("GATEWAY_CONFIG", "/nonexistent/gateway.json"));
        var stderr = gateway.Process.StandardError.ReadToEndAsync();
        await gateway.Process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(2, gateway.Process.ExitCode);
        Assert.Equal(
            "The gateway settings file was not found: /nonexistent/gateway.json (set GATEWAY_CONFIG or --ConfigFile=<path>).",
            (await stderr).Trim());
    }
}
