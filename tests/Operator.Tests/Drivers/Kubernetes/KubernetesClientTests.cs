using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Options;
using Operator.Configuration;
using Operator.Drivers.Kubernetes;
using Operator.Tests.Infrastructure;
using Operator.Workspaces;

namespace Operator.Tests.Drivers.Kubernetes;

/// <summary>
/// The official client (KubernetesClient) over real HTTP against the fake API server, for every kind of
/// call the operator makes: the client's wire format meets the fake's rules, which are the API server's.
/// </summary>
public sealed class KubernetesClientTests : IAsyncLifetime
{
    private const string Ns = "workspaces";
    private FakeApiServer _server = null!;
    private IKubernetes _client = null!;
    private KubernetesWorkspaceStore _workspaces = null!;

    public async Task InitializeAsync()
    {
        _server = await FakeApiServer.StartAsync();
        _client = _server.CreateClient();
        _workspaces = new KubernetesWorkspaceStore(_client, Options.Create(new OperatorOptions { Namespace = Ns }));
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task A_missing_object_is_a_404_and_create_then_read_round_trips()
    {
        var missing = await Assert.ThrowsAnyAsync<Exception>(() => _client.CoordinationV1.ReadNamespacedLeaseAsync("missing", Ns));
        Assert.True(missing.IsNotFound());

        var created = await _client.CoordinationV1.CreateNamespacedLeaseAsync(NewLease("a", "me"), Ns);
        Assert.Equal("coordination.k8s.io/v1", created.ApiVersion);
        Assert.False(string.IsNullOrEmpty(created.Metadata.Uid));
        Assert.False(string.IsNullOrEmpty(created.Metadata.ResourceVersion));

        var read = await _client.CoordinationV1.ReadNamespacedLeaseAsync("a", Ns);
        Assert.Equal("me", read.Spec.HolderIdentity);
        Assert.Equal(created.Metadata.ResourceVersion, read.Metadata.ResourceVersion);
        Assert.Contains($"GET /apis/coordination.k8s.io/v1/namespaces/{Ns}/leases/a", _server.Requests);
    }

    [Fact]
    public async Task Lease_times_are_written_as_the_API_server_parses_them()
    {
        var lease = NewLease("times", "me");
        lease.Spec.RenewTime = new DateTime(2026, 11, 23, 10, 20, 30, DateTimeKind.Utc).AddTicks(1234567);
        await _client.CoordinationV1.CreateNamespacedLeaseAsync(lease, Ns);

        // metav1.MicroTime: exactly six fractional digits and Z (Go's layout rejects anything else).
        Assert.Equal("2026-11-23T10:20:30.123456Z", _server.Leases.Get(Ns, "times")!["spec"]!["renewTime"]!.GetValue<string>());
    }

    [Fact]
    public async Task Creating_an_existing_object_is_a_conflict_with_the_servers_reason()
    {
        await _client.CoordinationV1.CreateNamespacedLeaseAsync(NewLease("dup", "me"), Ns);
        var ex = await Assert.ThrowsAnyAsync<Exception>(() => _client.CoordinationV1.CreateNamespacedLeaseAsync(NewLease("dup", "me"), Ns));
        Assert.True(ex.IsConflict());
        Assert.Contains("AlreadyExists", ApiErrors.Describe(ex), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Replace_with_a_stale_resource_version_is_refused_and_the_fresh_write_wins()
    {
        var first = await _client.CoordinationV1.CreateNamespacedLeaseAsync(NewLease("rv", "one"), Ns);
        var stale = await _client.CoordinationV1.ReadNamespacedLeaseAsync("rv", Ns);

        first.Spec.HolderIdentity = "two";
        await _client.CoordinationV1.ReplaceNamespacedLeaseAsync(first, "rv", Ns);

        stale.Spec.HolderIdentity = "three";
        var ex = await Assert.ThrowsAnyAsync<Exception>(() => _client.CoordinationV1.ReplaceNamespacedLeaseAsync(stale, "rv", Ns));
        Assert.True(ex.IsConflict());
        Assert.Equal("two", (await _client.CoordinationV1.ReadNamespacedLeaseAsync("rv", Ns)).Spec.HolderIdentity);
    }

    [Fact]
    public async Task Pod_status_goes_through_its_subresource_and_merge_patch_changes_only_what_it_names()
    {
        var pod = new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "p", Labels = new Dictionary<string, string> { ["app"] = "x" } },
            Spec = new V1PodSpec { Containers = [new V1Container { Name = "c", Image = "img" }] },
        };
        var created = await _client.CoreV1.CreateNamespacedPodAsync(pod, Ns);

        created.Status = new V1PodStatus { Phase = "Running", PodIP = "10.0.0.9" };
        created.Spec.Containers[0].Image = "ignored-through-status";
        await _client.CoreV1.ReplaceNamespacedPodStatusAsync(created, "p", Ns);
        var afterStatus = await _client.CoreV1.ReadNamespacedPodAsync("p", Ns);
        Assert.Equal("10.0.0.9", afterStatus.Status.PodIP);
        Assert.Equal("img", afterStatus.Spec.Containers[0].Image);

        var patch = new V1Patch(new { metadata = new { labels = new { extra = "y" } } }, V1Patch.PatchType.MergePatch);
        var patched = await _client.CoreV1.PatchNamespacedPodAsync(patch, "p", Ns);
        Assert.Equal("x", patched.Metadata.Labels["app"]);
        Assert.Equal("y", patched.Metadata.Labels["extra"]);
        Assert.Equal("10.0.0.9", patched.Status.PodIP);
    }

    [Fact]
    public async Task List_filters_by_label_and_delete_of_a_missing_object_is_a_404()
    {
        foreach (var (name, app) in new[] { ("a", "x"), ("b", "y"), ("c", "x") })
        {
            await _client.CoreV1.CreateNamespacedPodAsync(new V1Pod { Metadata = new V1ObjectMeta { Name = name, Labels = new Dictionary<string, string> { ["app"] = app } } }, Ns);
        }

        var list = await _client.CoreV1.ListNamespacedPodAsync(Ns, labelSelector: "app=x");
        Assert.Equal(["a", "c"], list.Items.Select(p => p.Metadata.Name));
        Assert.False(string.IsNullOrEmpty(list.Metadata.ResourceVersion));

        await _client.CoreV1.DeleteNamespacedPodAsync("a", Ns, new V1DeleteOptions { PropagationPolicy = "Background" });
        var gone = await Assert.ThrowsAnyAsync<Exception>(() => _client.CoreV1.DeleteNamespacedPodAsync("a", Ns));
        Assert.True(gone.IsNotFound());
        Assert.Empty((await _client.CoreV1.ListNamespacedPodAsync("other-namespace")).Items);
    }

    [Fact]
    public async Task Watch_from_version_0_starts_with_every_object_that_exists_as_an_API_server_does()
    {
        // An empty namespace lists at version 0; what is made before the watch starts must still reach it.
        var list = await _client.CoordinationV1.ListNamespacedLeaseAsync("empty-at-first");
        Assert.Equal("0", list.Metadata.ResourceVersion);
        await _client.CoordinationV1.CreateNamespacedLeaseAsync(NewLease("made-in-between", "me"), "empty-at-first");

        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await foreach (var (type, lease) in _client.CoordinationV1.WatchListNamespacedLeaseAsync("empty-at-first", resourceVersion: list.Metadata.ResourceVersion, cancellationToken: cancel.Token))
        {
            Assert.Equal((WatchEventType.Added, "made-in-between"), (type, lease.Metadata.Name));
            break;
        }
    }

    [Fact]
    public async Task Watch_from_a_list_version_delivers_later_changes_in_order()
    {
        await _client.CoordinationV1.CreateNamespacedLeaseAsync(NewLease("before", "me"), Ns);
        var list = await _client.CoordinationV1.ListNamespacedLeaseAsync(Ns);

        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var seen = new List<(WatchEventType, string, string)>();
        var watching = Task.Run(async () =>
        {
            await foreach (var (type, lease) in _client.CoordinationV1.WatchListNamespacedLeaseAsync(Ns, resourceVersion: list.Metadata.ResourceVersion, cancellationToken: cancel.Token))
            {
                seen.Add((type, lease.Metadata.Name, lease.Spec.HolderIdentity));
                if (seen.Count == 3)
                {
                    return;
                }
            }
        });

        var created = await _client.CoordinationV1.CreateNamespacedLeaseAsync(NewLease("after", "one"), Ns);
        created.Spec.HolderIdentity = "two";
        await _client.CoordinationV1.ReplaceNamespacedLeaseAsync(created, "after", Ns);
        await _client.CoordinationV1.DeleteNamespacedLeaseAsync("after", Ns);
        await watching;

        Assert.Equal([(WatchEventType.Added, "after", "one"), (WatchEventType.Modified, "after", "two"), (WatchEventType.Deleted, "after", "two")], seen);
    }

    [Fact]
    public async Task Watch_from_a_compacted_version_reports_expired()
    {
        await _client.CoordinationV1.CreateNamespacedLeaseAsync(NewLease("x", "me"), Ns);
        var old = (await _client.CoordinationV1.ListNamespacedLeaseAsync(Ns)).Metadata.ResourceVersion;
        await _client.CoordinationV1.CreateNamespacedLeaseAsync(NewLease("y", "me"), Ns);
        _server.Leases.Compact();

        Exception? reported = null;
        await foreach (var unused in _client.CoordinationV1.WatchListNamespacedLeaseAsync(Ns, resourceVersion: old, onError: error => reported = error))
        {
        }

        Assert.NotNull(reported);
        Assert.True(reported.IsExpired());
    }

    [Fact]
    public async Task A_client_without_the_token_is_refused_with_the_servers_status()
    {
        using var stranger = _server.CreateClient(token: "wrong");
        var ex = await Assert.ThrowsAnyAsync<Exception>(() => stranger.CoordinationV1.ReadNamespacedLeaseAsync("a", Ns));
        Assert.Equal(HttpStatusCode.Unauthorized, ApiErrors.StatusOf(ex));
    }

    [Fact]
    public async Task Workspaces_go_through_the_custom_object_API_and_keep_fields_the_model_does_not_know()
    {
        var workspace = new WorkspaceResource { Metadata = new V1ObjectMeta { Name = "ws-1", NamespaceProperty = Ns }, Spec = new WorkspaceSpec { Image = "img" } };
        var created = await _workspaces.CreateAsync(workspace, default);
        Assert.NotNull(created);
        Assert.Null(await _workspaces.CreateAsync(workspace, default));
        Assert.Contains($"POST /apis/cloudide.dev/v1alpha1/namespaces/{Ns}/workspaces", _server.Requests);

        // A newer CRD version or another tool wrote fields this model does not have.
        _server.Workspaces.Patch(Ns, "ws-1", JsonNode.Parse("""{"metadata":{"managedFields":[{"manager":"kubectl"}]},"spec":{"gpu":"a100"},"extra":{"x":1}}""")!.AsObject(), status: false);
        var read = await _workspaces.GetAsync("ws-1", default);
        var updated = await _workspaces.UpdateAsync(read!, w => (w.Metadata.Finalizers = [WorkspaceResource.Finalizer]) is not null, status: false, default);

        var stored = _server.Workspaces.Get(Ns, "ws-1")!;
        Assert.Equal(WorkspaceResource.Finalizer, stored["metadata"]!["finalizers"]![0]!.GetValue<string>());
        Assert.Equal("a100", stored["spec"]!["gpu"]!.GetValue<string>());
        Assert.Equal(1, stored["extra"]!["x"]!.GetValue<int>());
        Assert.Equal("kubectl", stored["metadata"]!["managedFields"]![0]!["manager"]!.GetValue<string>());

        // A stale copy loses to the fresh write; the store says so instead of throwing.
        var (outcome, _) = await _workspaces.ReplaceAsync(read!, status: false, default);
        Assert.Equal(WriteOutcome.Conflict, outcome);

        var stopped = await _workspaces.SetDesiredStateAsync("ws-1", DesiredState.Stopped, default);
        Assert.Equal(DesiredState.Stopped, stopped!.Spec.State);
        Assert.Equal("img", stopped.Spec.Image);
        Assert.Null(await _workspaces.SetDesiredStateAsync("nobody", DesiredState.Stopped, default));
        Assert.NotNull(updated);

        Assert.True(await _workspaces.DeleteAsync("ws-1", default));
        Assert.NotNull(_server.Workspaces.Get(Ns, "ws-1")!["metadata"]!["deletionTimestamp"]);
        Assert.False(await _workspaces.DeleteAsync("nobody", default));
    }

    private static V1Lease NewLease(string name, string holder) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new V1LeaseSpec { HolderIdentity = holder, LeaseDurationSeconds = 15 },
    };
}
