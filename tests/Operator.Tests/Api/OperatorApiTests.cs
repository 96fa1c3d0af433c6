using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Mvc;
using Operator.Tests.Infrastructure;

namespace Operator.Tests.Api;

/// <summary>The operator's API when its callers or its upstreams misbehave.</summary>
public sealed class OperatorApiTests : IAsyncLifetime
{
    private readonly RedisServer _redis = new();

    public Task InitializeAsync() => _redis.InitializeAsync();

    public Task DisposeAsync() => _redis.DisposeAsync();

    [Fact]
    public async Task With_the_Kubernetes_API_down_calls_get_503_with_the_reason_and_the_operator_is_not_ready()
    {
        await using var api = await FakeApiServer.StartAsync();
        var unreachable = $"http://127.0.0.1:{FreePort.Next()}/";
        await using var host = await OperatorHost.StartKubernetesAsync(api, _redis, $"--Operator:Kubernetes:Server={unreachable}");

        using var ready = await host.Client.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);

        using var response = await host.CreateAsync("down-1");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter);
        var problem = await response.Content.ReadFromJsonAsync<ProblemDetails>();
        Assert.Contains("Kubernetes API is unreachable", problem!.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Malformed_bodies_and_arguments_are_400_and_a_configured_token_is_required()
    {
        await using var api = await FakeApiServer.StartAsync();
        await using var host = await OperatorHost.StartKubernetesAsync(api, _redis, "--Operator:Api:Token=s3cret");

        using var anonymous = await host.Client.GetAsync("/api/workspaces");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal("Bearer", anonymous.Headers.WwwAuthenticate.Single().Scheme);

        host.Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "s3cret");
        using var listed = await host.Client.GetAsync("/api/workspaces");
        Assert.Equal(HttpStatusCode.OK, listed.StatusCode);

        using var brokenJson = await host.Client.PostAsync("/api/workspaces", new StringContent("{\"sid\": ", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, brokenJson.StatusCode);

        using var badWait = await host.Client.PostAsync("/api/workspaces/x/start?wait=soon", null);
        Assert.Equal(HttpStatusCode.BadRequest, badWait.StatusCode);

        using var badQuantity = await host.Client.PostAsJsonAsync("/api/workspaces", new { sid = "q-1", image = "img", cpu = "lots", mountPath = "relative/path" });
        Assert.Equal(HttpStatusCode.BadRequest, badQuantity.StatusCode);
        var problem = await badQuantity.Content.ReadFromJsonAsync<ValidationProblemDetails>();
        Assert.Equal(["cpu", "mountPath"], problem!.Errors.Keys.Order());
        Assert.Empty(api.Workspaces.List("workspaces", null).Items);
    }

    [Fact]
    public async Task On_Kubernetes_listening_ports_are_not_detected_and_the_answer_says_so_instead_of_failing()
    {
        await using var api = await FakeApiServer.StartAsync();
        await using var host = await OperatorHost.StartKubernetesAsync(api, _redis);
        using (var created = await host.CreateAsync("k8s-ports", start: false))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        // Once the operator's informer has seen it (a watch event after the create; it was missed for good when made
        // between the informer's list of an empty namespace and its watch). The page then asks for a port
        // number instead of offering what listens.
        await Eventually.TrueAsync(
            async () =>
            {
                using var answer = await host.Client.GetAsync("/api/workspaces/k8s-ports/listening-ports");
                return answer.StatusCode == HttpStatusCode.OK;
            },
            "the operator knows the workspace",
            TimeSpan.FromSeconds(10));
        var ports = await host.Client.GetFromJsonAsync<Contracts.Workspaces.ListeningPortsInfo>("/api/workspaces/k8s-ports/listening-ports");
        Assert.False(ports!.Detected);
        Assert.Empty(ports.Ports);

        using var unknown = await host.Client.GetAsync("/api/workspaces/nobody-here/listening-ports");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }
}
