using System.Net;
using System.Net.Http.Json;
using WebApi.Tests.Infrastructure;

namespace WebApi.Tests.Telemetry;

/// <summary>
/// The web API and the operator export through the same OpenTelemetry set-up as the gateway (a collector on
/// loopback receives what a real one would): their server and client spans, ASP.NET Core, HttpClient and
/// runtime metrics, each under its own service name.
/// </summary>
public sealed class TelemetryExportTests(TelemetryPlatform platform) : IClassFixture<TelemetryPlatform>
{
    [Fact]
    public async Task A_start_through_the_web_api_is_traced_and_measured_in_both_programs()
    {
        using var user = await platform.NewUserAsync();
        using var created = await user.PostAsJsonAsync("/api/workspaces", new { name = "traced", template = "go", spec = "1C2G5G", start = true });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        // The web API's server span, its call to the operator, and the operator's server span.
        await platform.Collector.AssertReceivedAsync(["workspace-webapi", "workspace-operator", "/api/workspaces", "/start"], inTraces: true);
        await platform.Collector.AssertReceivedAsync(
            ["workspace-webapi", "workspace-operator", "http.server.request.duration", "http.client.request.duration", "dotnet.gc.collections"]);
    }
}
