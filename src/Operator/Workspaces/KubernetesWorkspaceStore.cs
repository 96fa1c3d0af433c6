using System.Runtime.CompilerServices;
using System.Text.Json;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Options;
using WorkspaceOperator.Configuration;
using WorkspaceOperator.Kubernetes;

namespace WorkspaceOperator.Workspaces;

/// <summary>The Workspace custom resource through the official client's custom-object API.</summary>
internal sealed class KubernetesWorkspaceStore(IKubernetes kubernetes, IOptions<OperatorOptions> options) : IWorkspaceStore
{
    private static readonly ResourceKind Resource = Workspace.Resource;
    private readonly string _namespace = options.Value.Namespace;

    public Task<Workspace?> GetAsync(string name, CancellationToken cancellationToken) =>
        ApiErrors.ReadOrNullAsync(() => kubernetes.CustomObjects.GetNamespacedCustomObjectAsync<Workspace>(Resource.Group, Resource.Version, _namespace, Resource.Plural, name, cancellationToken));

    public async Task<(IReadOnlyList<Workspace> Items, string Version)> ListAsync(CancellationToken cancellationToken)
    {
        var list = await kubernetes.CustomObjects.ListNamespacedCustomObjectAsync<WorkspaceList>(
            Resource.Group, Resource.Version, _namespace, Resource.Plural, cancellationToken: cancellationToken);
        return ([.. list.Items ?? []], list.Metadata?.ResourceVersion ?? "");
    }

    public async IAsyncEnumerable<(WatchEventType Type, Workspace Value)> WatchAsync(
        string resourceVersion, Action<Exception> onError, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var changes = kubernetes.CustomObjects.WatchListNamespacedCustomObjectAsync(
            Resource.Group,
            Resource.Version,
            _namespace,
            Resource.Plural,
            allowWatchBookmarks: true,
            resourceVersion: resourceVersion,
            timeoutSeconds: ListWatch.WatchTimeoutSeconds,
            onError: onError,
            cancellationToken: cancellationToken);

        // The custom-object watch hands out untyped JSON; it is read with the client's own settings.
        await foreach (var (type, value) in changes)
        {
            yield return (type, KubernetesJson.Deserialize<Workspace>((JsonElement)value));
        }
    }

    public async Task<Workspace?> CreateAsync(Workspace workspace, CancellationToken cancellationToken)
    {
        try
        {
            return await kubernetes.CustomObjects.CreateNamespacedCustomObjectAsync<Workspace>(
                workspace, Resource.Group, Resource.Version, _namespace, Resource.Plural, cancellationToken: cancellationToken);
        }
        catch (Exception ex) when (ex.IsConflict())
        {
            return null;
        }
    }

    public async Task<(WriteOutcome Outcome, Workspace? Stored)> ReplaceAsync(Workspace workspace, bool status, CancellationToken cancellationToken)
    {
        try
        {
            var stored = status
                ? await kubernetes.CustomObjects.ReplaceNamespacedCustomObjectStatusAsync<Workspace>(
                    workspace, Resource.Group, Resource.Version, _namespace, Resource.Plural, workspace.Sid, cancellationToken: cancellationToken)
                : await kubernetes.CustomObjects.ReplaceNamespacedCustomObjectAsync<Workspace>(
                    workspace, Resource.Group, Resource.Version, _namespace, Resource.Plural, workspace.Sid, cancellationToken: cancellationToken);
            return (WriteOutcome.Written, stored);
        }
        catch (Exception ex) when (ex.IsConflict())
        {
            return (WriteOutcome.Conflict, null);
        }
        catch (Exception ex) when (ex.IsNotFound())
        {
            return (WriteOutcome.NotFound, null);
        }
    }

    public Task<Workspace?> SetDesiredStateAsync(string name, DesiredState state, CancellationToken cancellationToken) =>
        PatchSpecAsync(name, new { state = state.ToString() }, cancellationToken);

    public Task<Workspace?> SetPortsAsync(string name, IReadOnlyList<WorkspacePort> ports, CancellationToken cancellationToken) =>
        PatchSpecAsync(name, new { ports = ports.Select(p => new { port = p.Port, sharing = p.Sharing }) }, cancellationToken);

    // A JSON merge patch (RFC 7396): a list in it replaces the stored list whole.
    private async Task<Workspace?> PatchSpecAsync(string name, object spec, CancellationToken cancellationToken)
    {
        var patch = new V1Patch(new { spec }, V1Patch.PatchType.MergePatch);
        try
        {
            return await kubernetes.CustomObjects.PatchNamespacedCustomObjectAsync<Workspace>(
                patch, Resource.Group, Resource.Version, _namespace, Resource.Plural, name, cancellationToken: cancellationToken);
        }
        catch (Exception ex) when (ex.IsNotFound())
        {
            return null;
        }
    }

    public async Task<bool> DeleteAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            // Background: the API answers at once and the garbage collector removes dependents.
            await kubernetes.CustomObjects.DeleteNamespacedCustomObjectAsync<object>(
                Resource.Group, Resource.Version, _namespace, Resource.Plural, name,
                new V1DeleteOptions { PropagationPolicy = "Background" }, cancellationToken: cancellationToken);
            return true;
        }
        catch (Exception ex) when (ex.IsNotFound())
        {
            return false;
        }
    }
}
