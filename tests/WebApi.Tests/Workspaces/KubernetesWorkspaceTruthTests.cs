using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using WebApi.Tests.Infrastructure;

namespace WebApi.Tests.Workspaces;

/// <summary>
/// What the page shows when the workspace runs on Kubernetes: the test plays the kubelet through the
/// in-process API server and injects what goes wrong in clusters.
/// </summary>
public sealed class KubernetesWorkspaceTruthTests(KubernetesPlatform platform) : IClassFixture<KubernetesPlatform>
{
    private const string Ns = KubernetesPlatform.Namespace;

    [Fact]
    public async Task A_start_shows_the_pods_steps_a_cluster_without_room_is_said_in_words_and_nothing_is_left_running()
    {
        using var user = await platform.NewUserAsync();
        var sid = await user.CreatedAsync("big");
        var starting = user.PostAsync($"/api/workspaces/{sid}/start", null);

        await Eventually.TrueAsync(() => platform.Api.Pods.Get(Ns, sid) is not null, "the pod exists");
        await Eventually.TrueAsync(async () => (await user.ViewAsync(sid))["progress"]?["reason"]?.GetValue<string>() == "Scheduling", "the page says it waits for a node", TimeSpan.FromSeconds(10));
        Assert.Equal("Starting", (await user.ViewAsync(sid))["state"]!.GetValue<string>());

        platform.Api.SetPodStatus(Ns, sid, JsonNode.Parse("""
            {"phase":"Pending","conditions":[{"type":"PodScheduled","status":"False","reason":"Unschedulable",
             "message":"0/3 nodes are available: 3 Insufficient memory."}]}
            """)!.AsObject());
        using var failed = await starting;

        Assert.Equal(HttpStatusCode.ServiceUnavailable, failed.StatusCode);
        var problem = (await failed.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal("no_capacity", problem["title"]!.GetValue<string>());
        Assert.StartsWith("There is no room for this workspace right now: try a smaller size", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        var view = await user.ViewAsync(sid);
        Assert.Equal("Stopped", view["state"]!.GetValue<string>());
        Assert.Contains("Insufficient memory", view["lastError"]!.GetValue<string>(), StringComparison.Ordinal);

        // The operator was asked back to stopped: no pod comes up later behind a page that says Stopped.
        await Eventually.TrueAsync(() => platform.Api.Pods.Get(Ns, sid) is null, "the pending pod is removed");
        Assert.Equal("Stopped", platform.Api.Workspaces.Get(Ns, sid)!["spec"]!["state"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_editor_in_crash_loop_after_running_shows_Failed_with_what_to_do()
    {
        using var user = await platform.NewUserAsync();
        var sid = await user.CreatedAsync("crashy");
        var starting = user.PostAsync($"/api/workspaces/{sid}/start", null);
        await Eventually.TrueAsync(() => platform.Api.Pods.Get(Ns, sid) is not null, "the pod exists");
        platform.Api.SetPodStatus(Ns, sid, FakeApiServer.ReadyPodStatus("10.1.3.1"));
        using var started = await starting;
        Assert.Equal(HttpStatusCode.OK, started.StatusCode);
        Assert.Equal("Running", (await user.ViewAsync(sid))["state"]!.GetValue<string>());

        platform.Api.SetPodStatus(Ns, sid, JsonNode.Parse("""
            {"phase":"Running","podIP":"10.1.3.1","conditions":[{"type":"PodScheduled","status":"True"}],
             "containerStatuses":[{"name":"code-server","ready":false,"restartCount":5,
               "state":{"waiting":{"reason":"CrashLoopBackOff","message":"back-off 2m40s restarting failed container"}}}]}
            """)!.AsObject());

        await Eventually.TrueAsync(async () => (await user.ViewAsync(sid))["state"]!.GetValue<string>() == "Failed", "the page shows it failed", TimeSpan.FromSeconds(10));
        var error = (await user.ViewAsync(sid))["lastError"]!.GetValue<string>();
        Assert.StartsWith("The editor keeps failing to start. Stop the workspace and start it again", error, StringComparison.Ordinal);
        Assert.Contains("CrashLoopBackOff", error, StringComparison.Ordinal);
    }
}
