using System.Runtime.CompilerServices;
using System.Text.Json;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Options;
using Operator.Configuration;
using Operator.Workspaces;

namespace Operator.Drivers.Kubernetes;

/// <summary>The Workspace custom resource through the official client's custom-object API.</summary>
internal sealed class KubernetesWorkspaceStore(IKubernetes kubernetes, IOptions<OperatorOptions> options) : IWorkspaceStore
{
    private static readonly ResourceKind Resource = WorkspaceResource.Resource;
    private readonly string _namespace = options.Value.Namespace;

    public Task<WorkspaceResource?> GetAsync(string name, CancellationToken cancellationToken) =>
        ApiErrors.ReadOrNullAsync(() => kubernetes.CustomObjects.GetNamespacedCustomObjectAsync<WorkspaceResource>(Resource.Group, Resource.Version, _namespace, Resource.Plural, name, cancellationToken));

    public async Task<(IReadOnlyList<WorkspaceResource> Items, string Version)> ListAsync(CancellationToken cancellationToken)
    {
        var list = await kubernetes.CustomObjects.ListNamespacedCustomObjectAsync<WorkspaceResourceList>(
            Resource.Group, Resource.Version, _namespace, Resource.Plural, cancellationToken: cancellationToken);
        return ([.. list.Items ?? []], list.Metadata?.ResourceVersion ?? "");
    }

    public async IAsyncEnumerable<(WatchEventType Type, WorkspaceResource Value)> WatchAsync(
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
            yield return (type, KubernetesJson.Deserialize<WorkspaceResource>((JsonElement)value));
        }
    }

    public async Task<WorkspaceResource?> CreateAsync(WorkspaceResource workspace, CancellationToken cancellationToken)
    {
        try
        {
            return await kubernetes.CustomObjects.CreateNamespacedCustomObjectAsync<WorkspaceResource>(
                workspace, Resource.Group, Resource.Version, _namespace, Resource.Plural, cancellationToken: cancellationToken);
        }
        catch (Exception ex) when (ex.IsConflict())
        {
            return null;
        }
    }

    public async Task<(WriteOutcome Outcome, WorkspaceResource? Stored)> ReplaceAsync(WorkspaceResource workspace, bool status, CancellationToken cancellationToken)
    {
        try
        {
            var stored = status
                ? await kubernetes.CustomObjects.ReplaceNamespacedCustomObjectStatusAsync<WorkspaceResource>(
                    workspace, Resource.Group, Resource.Version, _namespace, Resource.Plural, workspace.Sid, cancellationToken: cancellationToken)
                : await kubernetes.CustomObjects.ReplaceNamespacedCustomObjectAsync<WorkspaceResource>(
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

    public Task<WorkspaceResource?> SetDesiredStateAsync(string name, DesiredState state, CancellationToken cancellationToken) =>
        PatchSpecAsync(name, new { state = state.ToString() }, cancellationToken);

    public Task<WorkspaceResource?> SetPortsAsync(string name, IReadOnlyList<SharedPortSpec> ports, CancellationToken cancellationToken) =>
        PatchSpecAsync(name, new { ports = ports.Select(p => new { port = p.Port, sharing = p.Sharing }) }, cancellationToken);

    // A JSON merge patch (RFC 7396): a list in it replaces the stored list whole.
    private async Task<WorkspaceResource?> PatchSpecAsync(string name, object spec, CancellationToken cancellationToken)
    {
        var patch = new V1Patch(new { spec }, V1Patch.PatchType.MergePatch);
        try
        {
            return await kubernetes.CustomObjects.PatchNamespacedCustomObjectAsync<WorkspaceResource>(
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
