using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Contracts.Workspaces;
using Microsoft.AspNetCore.Mvc;
using Operator.Drivers.Kubernetes;
using Operator.Tests.Infrastructure;
using Operator.Workspaces;

namespace Operator.Tests.Reconciliation;

/// <summary>
/// The operator (API, informer, controller, Kubernetes driver, route publisher) against the fake API
/// server and a real Redis. The test plays the kubelet and the controller-manager: it marks pods ready
/// and releases the volume claim's protection finalizer, as a cluster would.
/// </summary>
public sealed class WorkspaceLifecycleTests : IAsyncLifetime, IDisposable
{
    private const string Ns = "workspaces";
    private readonly RedisServer _redis = new();
    private FakeApiServer _api = null!;
    private OperatorHost _operator = null!;
    private RouteChannelListener _routes = null!;
    private RedisTestClient _redisClient = null!;

    public async Task InitializeAsync()
    {
        await _redis.InitializeAsync();
        _api = await FakeApiServer.StartAsync();
        _operator = await OperatorHost.StartKubernetesAsync(_api, _redis);
        _routes = new RouteChannelListener(_redis);
        _redisClient = _redis.Connect();
    }

    public void Dispose()
    {
        _routes.Dispose();
        _redisClient.Dispose();
    }

    public async Task DisposeAsync()
    {
        await _operator.DisposeAsync();
        await _api.DisposeAsync();
        await _redis.DisposeAsync();
    }

    [Fact]
    public async Task Create_and_start_waits_for_the_editors_readiness_then_publishes_the_route()
    {
        var creating = _operator.CreateAsync("alice-1");

        await Eventually.TrueAsync(() => _api.Pods.Get(Ns, "alice-1") is not null, "the pod exists");
        var workspace = _api.Workspaces.Get(Ns, "alice-1")!;
        var pod = _api.Pods.Get(Ns, "alice-1")!;
        var claim = _api.Claims.Get(Ns, "alice-1-data")!;

        // Owned by the Workspace, kept alive by a finalizer until cleaned up.
        Assert.Contains(WorkspaceResource.Finalizer, workspace["metadata"]!["finalizers"]!.AsArray().Select(f => f!.GetValue<string>()));
        var uid = workspace["metadata"]!["uid"]!.GetValue<string>();
        Assert.Equal(uid, pod["metadata"]!["ownerReferences"]![0]!["uid"]!.GetValue<string>());
        Assert.Equal(uid, claim["metadata"]!["ownerReferences"]![0]!["uid"]!.GetValue<string>());
        Assert.Equal("10Gi", claim["spec"]!["resources"]!["requests"]!["storage"]!.GetValue<string>());

        // Ready means the editor answers its probe; SIGTERM reaches code-server; user data on the volume.
        var container = pod["spec"]!["containers"]![0]!;
        Assert.Equal("/healthz", container["readinessProbe"]!["httpGet"]!["path"]!.GetValue<string>());
        Assert.Equal(9999, container["readinessProbe"]!["httpGet"]!["port"]!.GetValue<int>());
        Assert.Contains("trap", container["command"]![2]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("--user-data-dir", container["command"]![2]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("/user_data", container["volumeMounts"]![0]!["mountPath"]!.GetValue<string>());
        Assert.Equal("2", container["resources"]!["limits"]!["cpu"]!.GetValue<string>());
        Assert.Equal("4Gi", container["resources"]!["requests"]!["memory"]!.GetValue<string>());
        Assert.False(pod["spec"]!["automountServiceAccountToken"]!.GetValue<bool>());

        // A pod that exists but is not ready gets no route, and the caller is still waiting.
        await Eventually.TrueAsync(() => Phase("alice-1") == WorkspacePhase.Starting, "the workspace is Starting");
        Assert.Null(await HostOf("alice-1"));
        Assert.False(creating.IsCompleted);

        _api.SetPodStatus(Ns, "alice-1", FakeApiServer.ReadyPodStatus("10.1.2.3"));
        using var created = await creating;

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var info = await OperatorHost.InfoAsync(created);
        Assert.Equal(("Running", true, "10.1.2.3:9999", 9999), (info.Phase, info.Ready, info.Address, info.Port));
        Assert.Equal("10.1.2.3:9999", await HostOf("alice-1"));
        await Eventually.TrueAsync(() => _routes.Messages.Contains("alice-1"), "the bare sid is published on routes:changed");
    }

    [Fact]
    public async Task Stop_removes_the_pod_and_the_route_and_keeps_the_volume_and_start_brings_it_back()
    {
        await StartRunningAsync("bob-1", "10.1.2.4");
        var claimUid = _api.Claims.Get(Ns, "bob-1-data")!["metadata"]!["uid"]!.GetValue<string>();

        using var stopped = await _operator.StopWorkspaceAsync("bob-1");
        Assert.Equal(HttpStatusCode.OK, stopped.StatusCode);
        Assert.Equal("Stopped", (await OperatorHost.InfoAsync(stopped)).Phase);
        Assert.Null(_api.Pods.Get(Ns, "bob-1"));
        Assert.Equal(claimUid, _api.Claims.Get(Ns, "bob-1-data")!["metadata"]!["uid"]!.GetValue<string>());
        Assert.Null(await HostOf("bob-1"));
        Assert.Equal(2, _routes.Messages.Count(m => m == "bob-1"));

        var starting = _operator.StartWorkspaceAsync("bob-1");
        await Eventually.TrueAsync(() => _api.Pods.Get(Ns, "bob-1") is not null, "a new pod exists");
        _api.SetPodStatus(Ns, "bob-1", FakeApiServer.ReadyPodStatus("10.9.9.9"));
        using var started = await starting;

        Assert.Equal(HttpStatusCode.OK, started.StatusCode);
        Assert.Equal("10.9.9.9:9999", await HostOf("bob-1"));
        Assert.Equal(claimUid, _api.Claims.Get(Ns, "bob-1-data")!["metadata"]!["uid"]!.GetValue<string>());
    }

    [Fact]
    public async Task Delete_is_held_by_the_finalizer_until_pod_and_volume_are_gone()
    {
        await StartRunningAsync("carol-1", "10.1.2.5");

        // As in a cluster: the claim's protection finalizer holds it while anything might still use it.
        _api.Claims.Patch(Ns, "carol-1-data", JsonNode.Parse("""{"metadata":{"finalizers":["kubernetes.io/pvc-protection"]}}""")!.AsObject(), status: false);
        var deleting = _operator.DeleteWorkspaceAsync("carol-1");

        await Eventually.TrueAsync(() => Phase("carol-1") == WorkspacePhase.Deleting, "the workspace shows Deleting");
        Assert.Null(_api.Pods.Get(Ns, "carol-1"));
        Assert.NotNull(_api.Claims.Get(Ns, "carol-1-data")!["metadata"]!["deletionTimestamp"]);
        Assert.NotNull(_api.Workspaces.Get(Ns, "carol-1"));
        Assert.Null(await HostOf("carol-1"));
        Assert.False(deleting.IsCompleted);

        _api.Claims.Patch(Ns, "carol-1-data", JsonNode.Parse("""{"metadata":{"finalizers":null}}""")!.AsObject(), status: false);
        using var deleted = await deleting;

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Null(_api.Claims.Get(Ns, "carol-1-data"));
        Assert.Null(_api.Workspaces.Get(Ns, "carol-1"));
    }

    [Fact]
    public async Task A_workspace_no_node_has_room_for_fails_its_start_with_the_reason_instead_of_waiting_out_the_deadline()
    {
        var creating = _operator.CreateAsync("dave-1", wait: 60);
        await Eventually.TrueAsync(() => _api.Pods.Get(Ns, "dave-1") is not null, "the pod exists");
        _api.SetPodStatus(Ns, "dave-1", JsonNode.Parse("""
            {"phase":"Pending","conditions":[{"type":"PodScheduled","status":"False","reason":"Unschedulable",
             "message":"0/3 nodes are available: 3 Insufficient cpu."}]}
            """)!.AsObject());

        var started = DateTime.UtcNow;
        using var response = await creating;

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<ProblemDetails>();
        Assert.Equal("ResourcesExhausted", problem!.Title);
        Assert.Contains("Insufficient cpu", problem.Detail, StringComparison.Ordinal);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(30));
        Assert.Equal(WorkspacePhase.Failed, Phase("dave-1"));
        Assert.Null(await HostOf("dave-1"));
    }

    [Fact]
    public async Task A_start_reports_each_step_the_pod_takes_so_the_start_page_can_show_progress()
    {
        var creating = _operator.CreateAsync("gina-1", wait: 60);
        await Eventually.TrueAsync(() => _api.Pods.Get(Ns, "gina-1") is not null, "the pod exists");
        await Eventually.TrueAsync(() => Reason("gina-1") == "Scheduling", "waiting for a node");

        (string Status, string Reason)[] steps =
        [
            ("""{"phase":"Pending","conditions":[{"type":"PodScheduled","status":"True"},{"type":"PodReadyToStartContainers","status":"False"}]}""", "VolumeAttaching"),
            ("""
             {"phase":"Pending","conditions":[{"type":"PodScheduled","status":"True"},{"type":"PodReadyToStartContainers","status":"True"}],
              "containerStatuses":[{"name":"code-server","ready":false,"restartCount":0,"state":{"waiting":{"reason":"ContainerCreating"}}}]}
             """, "EditorCreating"),
            ("""
             {"phase":"Running","podIP":"10.1.2.10","conditions":[{"type":"PodScheduled","status":"True"},{"type":"PodReadyToStartContainers","status":"True"}],
              "containerStatuses":[{"name":"code-server","ready":false,"restartCount":0,"state":{"running":{}}}]}
             """, "Probing"),
        ];
        foreach (var (status, reason) in steps)
        {
            _api.SetPodStatus(Ns, "gina-1", JsonNode.Parse(status)!.AsObject());
            await Eventually.TrueAsync(() => Reason("gina-1") == reason, $"the workspace reports {reason}");
            Assert.Equal(WorkspacePhase.Starting, Phase("gina-1"));
            Assert.Null(await HostOf("gina-1"));
        }

        _api.SetPodStatus(Ns, "gina-1", FakeApiServer.ReadyPodStatus("10.1.2.10"));
        using var created = await creating;
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(WorkspacePhase.Running, Phase("gina-1"));
    }

    [Fact]
    public async Task Conflicting_writes_are_retried_on_a_fresh_copy()
    {
        _api.InjectConflicts("workspaces", 4);
        await StartRunningAsync("erin-1", "10.1.2.6");

        Assert.Equal(4, _api.ConflictsServed);
        Assert.Equal("10.1.2.6:9999", await HostOf("erin-1"));
    }

    [Fact]
    public async Task Ended_and_expired_watches_are_resumed_and_relisted_without_missing_a_workspace()
    {
        await StartRunningAsync("frank-1", "10.1.2.7");

        // The server ends its watches (restart, timeout): the informer resumes from the last version.
        _api.Workspaces.EndWatches();
        await StartRunningAsync("frank-2", "10.1.2.8");

        // The informer is cut off while a workspace is created and the history is compacted past its
        // version: its resume gets 410, so it must list again to find the new workspace.
        var listsBefore = _api.Requests.Count(IsWorkspaceList);
        _api.RefuseWatches = true;
        _api.Workspaces.EndWatches();
        var creating = _operator.CreateAsync("frank-3");
        await Eventually.TrueAsync(() => _api.Workspaces.Get(Ns, "frank-3") is not null, "frank-3 is stored");
        _api.Workspaces.Compact();
        _api.RefuseWatches = false;

        await Eventually.TrueAsync(() => _api.Pods.Get(Ns, "frank-3") is not null, "the pod of frank-3 exists");
        _api.SetPodStatus(Ns, "frank-3", FakeApiServer.ReadyPodStatus("10.1.2.9"));
        using var created = await creating;
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        Assert.True(_api.Requests.Count(IsWorkspaceList) > listsBefore, "the informer listed again after 410");
        Assert.Equal("10.1.2.9:9999", await HostOf("frank-3"));
    }

    [Fact]
    public async Task A_route_lost_from_Redis_is_put_back_by_the_next_reconcile()
    {
        await StartRunningAsync("gina-1", "10.1.2.10");
        await _redisClient.ExecuteAsync("FLUSHALL");

        // Any event for the workspace (here a label change) reconciles it; so does the periodic resync.
        _api.Workspaces.Patch(Ns, "gina-1", JsonNode.Parse("""{"metadata":{"labels":{"touched":"yes"}}}""")!.AsObject(), status: false);
        await Eventually.TrueAsync(async () => await HostOf("gina-1") == "10.1.2.10:9999", "the route is back");
    }

    [Fact]
    public async Task Routes_are_written_again_within_seconds_of_Redis_coming_back_empty()
    {
        await StartRunningAsync("ivy-1", "10.1.2.12");

        // Quiet first: a reconcile still in flight would meet the outage, fail and be retried, and put the
        // route back by itself (that is not what this test is about).
        await Task.Delay(TimeSpan.FromSeconds(1.5));

        // A crash without persistence: every route is gone, and nothing about the workspace changed.
        _redis.Kill();
        await _redis.RestartAsync();
        var returned = System.Diagnostics.Stopwatch.StartNew();

        // Not the 5-minute resync: the operator's connection coming back queues every workspace.
        using var redis = _redis.Connect();
        await Eventually.TrueAsync(async () => (string?)await redis.ExecuteAsync("HGET", "hosts", "ivy-1") == "10.1.2.12:9999", "the route is back", TimeSpan.FromSeconds(5));
        Assert.True(returned.Elapsed < TimeSpan.FromSeconds(3), $"route written again {returned.ElapsedMilliseconds} ms after Redis returned");
    }

    [Fact]
    public async Task A_pod_that_turns_unready_loses_its_route_at_once_and_gets_it_back_when_ready()
    {
        await StartRunningAsync("hank-1", "10.1.2.11");
        var notReady = FakeApiServer.ReadyPodStatus("10.1.2.11");
        notReady["containerStatuses"]![0]!["ready"] = false;

        // Seen through the pod watch, well before any poll or resync would come round.
        _api.SetPodStatus(Ns, "hank-1", notReady);
        await Eventually.TrueAsync(async () => await HostOf("hank-1") is null, "the route is removed", TimeSpan.FromSeconds(5));

        // The status is written just after the route is removed (route first: no request to an unready editor).
        await Eventually.TrueAsync(() => Phase("hank-1") == WorkspacePhase.Starting, "the workspace shows Starting", TimeSpan.FromSeconds(5));

        _api.SetPodStatus(Ns, "hank-1", FakeApiServer.ReadyPodStatus("10.1.2.11"));
        await Eventually.TrueAsync(async () => await HostOf("hank-1") == "10.1.2.11:9999", "the route is back", TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Shared_ports_reach_the_gateways_hash_beside_the_route_stay_while_stopped_and_go_with_the_workspace()
    {
        await StartRunningAsync("dan-1", "10.1.2.6");
        var noticesBefore = _routes.Messages.Count(m => m == "dan-1");

        using var shared = await _operator.Client.PutAsJsonAsync(
            "/api/workspaces/dan-1/ports", new { ports = new object[] { new { port = 8080, sharing = "authenticated" }, new { port = 3000, sharing = "public" }, new { port = 5000, sharing = "private" } } });

        Assert.Equal(HttpStatusCode.OK, shared.StatusCode);
        Assert.Equal([new("3000", "public"), new("8080", "authenticated")], (await OperatorHost.InfoAsync(shared)).Ports.Select(p => new KeyValuePair<string, string>(p.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), p.Sharing)));
        Assert.Equal("authenticated", _api.Workspaces.Get(Ns, "dan-1")!["spec"]!["ports"]![0]!["sharing"]!.GetValue<string>());
        await Eventually.TrueAsync(async () => await SharesOf("dan-1") == "3000=public,8080=authenticated", "the sharing is in hash shares");
        await Eventually.TrueAsync(() => _routes.Messages.Count(m => m == "dan-1") == noticesBefore + 1, "the sid is published once for it");

        using var stopped = await _operator.StopWorkspaceAsync("dan-1");
        Assert.Null(await HostOf("dan-1"));
        Assert.Equal("3000=public,8080=authenticated", await SharesOf("dan-1"));

        using var unshared = await _operator.Client.PutAsJsonAsync("/api/workspaces/dan-1/ports", new { ports = new[] { new { port = 8080, sharing = "authenticated" } } });
        await Eventually.TrueAsync(async () => await SharesOf("dan-1") == "8080=authenticated", "port 3000 is private again");

        using var deleted = await _operator.DeleteWorkspaceAsync("dan-1");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Null(await SharesOf("dan-1"));
    }

    [Theory]
    [InlineData("""{"ports":[{"port":0,"sharing":"public"}]}""", "ports[0].port")]
    [InlineData("""{"ports":[{"port":3000,"sharing":"everyone"}]}""", "ports[0].sharing")]
    [InlineData("""{"ports":[{"port":3000,"sharing":"public"},{"port":3000,"sharing":"private"}]}""", "ports")]
    public async Task A_sharing_request_the_gateway_could_not_follow_is_refused_whole(string body, string field)
    {
        using var created = await _operator.CreateAsync("erin-1", start: false);

        using var refused = await _operator.Client.PutAsync("/api/workspaces/erin-1/ports", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        using var missing = await _operator.Client.PutAsJsonAsync("/api/workspaces/nobody/ports", new { ports = Array.Empty<object>() });

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains(field, (await refused.Content.ReadFromJsonAsync<ValidationProblemDetails>())!.Errors.Keys);
        Assert.Null(_api.Workspaces.Get(Ns, "erin-1")!["spec"]!["ports"]);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task Bad_requests_get_clear_answers()
    {
        using var invalid = await _operator.CreateAsync("Not_A_DNS_Label");
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        var problem = await invalid.Content.ReadFromJsonAsync<ValidationProblemDetails>();
        Assert.Contains("sid", problem!.Errors.Keys);

        using var missing = await _operator.StartWorkspaceAsync("nobody");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);

        using var first = await _operator.CreateAsync("twice-1", start: false);
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        using var second = await _operator.CreateAsync("twice-1", start: false);
        Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
        Assert.Null(_api.Pods.Get(Ns, "twice-1"));
    }

    // A list, not a watch: the official client asks for it with ?watch=false.
    private static bool IsWorkspaceList(string request) =>
        request == $"GET /apis/cloudide.dev/v1alpha1/namespaces/{Ns}/workspaces" || request == $"GET /apis/cloudide.dev/v1alpha1/namespaces/{Ns}/workspaces?watch=false";

    private async Task StartRunningAsync(string sid, string ip)
    {
        var creating = _operator.CreateAsync(sid);
        await Eventually.TrueAsync(() => _api.Pods.Get(Ns, sid) is not null, $"the pod of {sid} exists");
        _api.SetPodStatus(Ns, sid, FakeApiServer.ReadyPodStatus(ip));
        using var created = await creating;
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
    }

    private string? Phase(string sid) => _api.Workspaces.Get(Ns, sid)?["status"]?["phase"]?.GetValue<string>();

    private string? Reason(string sid) => _api.Workspaces.Get(Ns, sid)?["status"]?["conditions"]?[0]?["reason"]?.GetValue<string>();

    private async Task<string?> HostOf(string sid) => (string?)await _redisClient.ExecuteAsync("HGET", "hosts", sid);

    private async Task<string?> SharesOf(string sid) => (string?)await _redisClient.ExecuteAsync("HGET", "shares", sid);
}
