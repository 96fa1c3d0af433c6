using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using WorkspaceOperator.Kubernetes;
using WorkspaceOperator.Tests.Infrastructure;

namespace WorkspaceOperator.Tests.Kubernetes;

/// <summary>The typed client over real HTTP against the fake API server's wire rules.</summary>
public sealed class KubernetesClientTests : IAsyncLifetime
{
    private const string Ns = "workspaces";
    private FakeApiServer _server = null!;
    private IKubernetesClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await FakeApiServer.StartAsync();
        _client = _server.CreateClient();
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Get_of_a_missing_object_is_null_and_create_then_get_round_trips()
    {
        Assert.Null(await _client.GetAsync<Lease>(ResourceKind.Leases, Ns, "missing", default));

        var created = await _client.CreateAsync(ResourceKind.Leases, NewLease("a", "me"), default);
        Assert.Equal("coordination.k8s.io/v1", created.ApiVersion);
        Assert.False(string.IsNullOrEmpty(created.Metadata.Uid));
        Assert.False(string.IsNullOrEmpty(created.Metadata.ResourceVersion));

        var read = await _client.GetAsync<Lease>(ResourceKind.Leases, Ns, "a", default);
        Assert.Equal("me", read!.Spec.HolderIdentity);
        Assert.Equal(created.Metadata.ResourceVersion, read.Metadata.ResourceVersion);
        Assert.Contains($"GET /apis/coordination.k8s.io/v1/namespaces/{Ns}/leases/a", _server.Requests);
    }

    [Fact]
    public async Task Lease_times_are_written_as_the_API_server_parses_them()
    {
        var renew = new DateTimeOffset(2026, 11, 23, 10, 20, 30, TimeSpan.Zero).AddTicks(1234567);
        var lease = NewLease("times", "me");
        lease.Spec.RenewTime = renew;
        await _client.CreateAsync(ResourceKind.Leases, lease, default);

        // metav1.MicroTime: exactly six fractional digits and Z (Go's layout rejects anything else).
        var stored = _server.Leases.Get(Ns, "times")!;
        Assert.Equal("2026-11-23T10:20:30.123456Z", stored["spec"]!["renewTime"]!.GetValue<string>());
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", stored["metadata"]!["creationTimestamp"]!.GetValue<string>());
    }

    [Fact]
    public async Task Creating_an_existing_object_is_a_conflict_with_the_servers_reason()
    {
        await _client.CreateAsync(ResourceKind.Leases, NewLease("dup", "me"), default);
        var ex = await Assert.ThrowsAsync<KubernetesApiException>(() => _client.CreateAsync(ResourceKind.Leases, NewLease("dup", "me"), default));
        Assert.True(ex.IsConflict);
        Assert.Equal("AlreadyExists", ex.Reason);
    }

    [Fact]
    public async Task Replace_with_a_stale_resource_version_is_refused_and_the_fresh_write_wins()
    {
        var first = await _client.CreateAsync(ResourceKind.Leases, NewLease("rv", "one"), default);
        var stale = await _client.GetAsync<Lease>(ResourceKind.Leases, Ns, "rv", default);

        first.Spec.HolderIdentity = "two";
        await _client.ReplaceAsync(ResourceKind.Leases, first, default);

        stale!.Spec.HolderIdentity = "three";
        var ex = await Assert.ThrowsAsync<KubernetesApiException>(() => _client.ReplaceAsync(ResourceKind.Leases, stale, default));
        Assert.True(ex.IsConflict);
        Assert.Equal(HttpStatusCode.Conflict, ex.StatusCode);
        Assert.Equal("two", (await _client.GetAsync<Lease>(ResourceKind.Leases, Ns, "rv", default))!.Spec.HolderIdentity);
    }

    [Fact]
    public async Task Fields_the_client_does_not_model_survive_a_read_modify_replace()
    {
        var created = await _client.CreateAsync(ResourceKind.Leases, NewLease("extra", "me"), default);
        _server.Leases.Patch(Ns, "extra", JsonNode.Parse("""{"metadata":{"managedFields":[{"manager":"kubectl"}]},"spec":{"preferredHolder":"other"}}""")!.AsObject(), status: false);

        var read = await _client.GetAsync<Lease>(ResourceKind.Leases, Ns, "extra", default);
        read!.Spec.HolderIdentity = "changed";
        await _client.ReplaceAsync(ResourceKind.Leases, read, default);

        var stored = _server.Leases.Get(Ns, "extra")!;
        Assert.Equal("changed", stored["spec"]!["holderIdentity"]!.GetValue<string>());
        Assert.Equal("kubectl", stored["metadata"]!["managedFields"]![0]!["manager"]!.GetValue<string>());
        Assert.NotEqual(created.Metadata.ResourceVersion, stored["metadata"]!["resourceVersion"]!.GetValue<string>());
    }

    [Fact]
    public async Task Pod_status_goes_through_its_subresource_and_merge_patch_changes_only_what_it_names()
    {
        var pod = new Pod { Metadata = new ObjectMeta { Name = "p", Namespace = Ns, Labels = new() { ["app"] = "x" } } };
        pod.Spec.Containers.Add(new Container { Name = "c", Image = "img" });
        var created = await _client.CreateAsync(ResourceKind.Pods, pod, default);

        created.Status = new PodStatus { Phase = "Running", PodIP = "10.0.0.9" };
        created.Spec.Containers[0].Image = "ignored-through-status";
        await _client.ReplaceStatusAsync(ResourceKind.Pods, created, default);
        var afterStatus = await _client.GetAsync<Pod>(ResourceKind.Pods, Ns, "p", default);
        Assert.Equal("10.0.0.9", afterStatus!.Status!.PodIP);
        Assert.Equal("img", afterStatus.Spec.Containers[0].Image);

        var patched = await _client.PatchAsync<Pod>(ResourceKind.Pods, Ns, "p", JsonNode.Parse("""{"metadata":{"labels":{"extra":"y"}}}""")!, null, default);
        Assert.Equal("x", patched.Metadata.Labels!["app"]);
        Assert.Equal("y", patched.Metadata.Labels["extra"]);
        Assert.Equal("10.0.0.9", patched.Status!.PodIP);
    }

    [Fact]
    public async Task List_filters_by_label_and_delete_says_whether_there_was_something_to_delete()
    {
        foreach (var (name, app) in new[] { ("a", "x"), ("b", "y"), ("c", "x") })
        {
            var pod = new Pod { Metadata = new ObjectMeta { Name = name, Namespace = Ns, Labels = new() { ["app"] = app } } };
            await _client.CreateAsync(ResourceKind.Pods, pod, default);
        }

        var list = await _client.ListAsync<Pod>(ResourceKind.Pods, Ns, "app=x", default);
        Assert.Equal(["a", "c"], list.Items.Select(p => p.Metadata.Name));
        Assert.False(string.IsNullOrEmpty(list.Metadata.ResourceVersion));

        Assert.True(await _client.DeleteAsync(ResourceKind.Pods, Ns, "a", default));
        Assert.False(await _client.DeleteAsync(ResourceKind.Pods, Ns, "a", default));
        Assert.Empty((await _client.ListAsync<Pod>(ResourceKind.Pods, "other-namespace", null, default)).Items);
    }

    [Fact]
    public async Task Watch_from_a_list_version_delivers_later_changes_in_order()
    {
        await _client.CreateAsync(ResourceKind.Leases, NewLease("before", "me"), default);
        var list = await _client.ListAsync<Lease>(ResourceKind.Leases, Ns, null, default);

        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var seen = new List<(WatchEventType, string?, string?)>();
        var watching = Task.Run(async () =>
        {
            await foreach (var change in _client.WatchAsync<Lease>(ResourceKind.Leases, Ns, list.Metadata.ResourceVersion!, null, cancel.Token))
            {
                seen.Add((change.Type, change.Value.Metadata.Name, change.Value.Spec.HolderIdentity));
                if (seen.Count == 3)
                {
                    return;
                }
            }
        });

        var created = await _client.CreateAsync(ResourceKind.Leases, NewLease("after", "one"), default);
        created.Spec.HolderIdentity = "two";
        await _client.ReplaceAsync(ResourceKind.Leases, created, default);
        await _client.DeleteAsync(ResourceKind.Leases, Ns, "after", default);
        await watching;

        Assert.Equal(
            [(WatchEventType.Added, "after", "one"), (WatchEventType.Modified, "after", "two"), (WatchEventType.Deleted, "after", "two")],
            seen);
    }

    [Fact]
    public async Task Watch_from_a_compacted_version_fails_as_expired()
    {
        await _client.CreateAsync(ResourceKind.Leases, NewLease("x", "me"), default);
        var old = (await _client.ListAsync<Lease>(ResourceKind.Leases, Ns, null, default)).Metadata.ResourceVersion!;
        await _client.CreateAsync(ResourceKind.Leases, NewLease("y", "me"), default);
        _server.Leases.Compact();

        var ex = await Assert.ThrowsAsync<KubernetesApiException>(async () =>
        {
            await foreach (var unused in _client.WatchAsync<Lease>(ResourceKind.Leases, Ns, old, null, default))
            {
            }
        });
        Assert.True(ex.IsExpired);
        Assert.Equal(HttpStatusCode.Gone, ex.StatusCode);
    }

    [Fact]
    public async Task A_client_without_the_token_is_refused_with_the_servers_status()
    {
        var stranger = _server.CreateClient(token: "wrong");
        var ex = await Assert.ThrowsAsync<KubernetesApiException>(() => stranger.GetAsync<Lease>(ResourceKind.Leases, Ns, "a", default));
        Assert.Equal(HttpStatusCode.Unauthorized, ex.StatusCode);
    }

    [Fact]
    public void A_watch_line_with_an_unknown_type_is_an_error_not_a_silent_skip()
    {
        var ex = Assert.Throws<KubernetesApiException>(() => KubernetesClient.ParseWatchLine<Lease>("""{"type":"SURPRISE","object":{}}"""));
        Assert.Contains("SURPRISE", ex.Message, StringComparison.Ordinal);
        Assert.ThrowsAny<JsonException>(() => KubernetesClient.ParseWatchLine<Lease>("{not json"));
    }

    private static Lease NewLease(string name, string holder) => new()
    {
        Metadata = new ObjectMeta { Name = name, Namespace = Ns },
        Spec = new LeaseSpec { HolderIdentity = holder, LeaseDurationSeconds = 15 },
    };
}
