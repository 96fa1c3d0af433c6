using k8s;
using Operator.Drivers.Kubernetes;

namespace Operator.Workspaces;

/// <summary>
/// The Workspace resources: in the cluster's API (<see cref="KubernetesWorkspaceStore"/>, the official
/// client's custom-object calls) or, on one machine, in memory with the API server's rules. The outcomes
/// callers act on (exists, gone, someone else wrote first) are answers here, not exceptions.
/// </summary>
public interface IWorkspaceStore
{
    /// <summary>The workspace, or null when there is none.</summary>
    Task<WorkspaceResource?> GetAsync(string name, CancellationToken cancellationToken);

    /// <summary>Every workspace and the resourceVersion the list was read at.</summary>
    Task<(IReadOnlyList<WorkspaceResource> Items, string Version)> ListAsync(CancellationToken cancellationToken);

    /// <summary>Changes after <paramref name="resourceVersion"/> until the server ends the stream; a 410 goes to <paramref name="onError"/>.</summary>
    IAsyncEnumerable<(WatchEventType Type, WorkspaceResource Value)> WatchAsync(string resourceVersion, Action<Exception> onError, CancellationToken cancellationToken);

    /// <summary>The stored workspace, or null when one of that name already exists.</summary>
    Task<WorkspaceResource?> CreateAsync(WorkspaceResource workspace, CancellationToken cancellationToken);

    /// <summary>
    /// PUT with the object's resourceVersion (of the whole object, or only its status subresource): the stored
    /// object, or <see cref="WriteOutcome.Conflict"/> when someone else changed it first.
    /// </summary>
    Task<(WriteOutcome Outcome, WorkspaceResource? Stored)> ReplaceAsync(WorkspaceResource workspace, bool status, CancellationToken cancellationToken);

    /// <summary>Merge-patches <c>spec.state</c>; null when there is no such workspace.</summary>
    Task<WorkspaceResource?> SetDesiredStateAsync(string name, DesiredState state, CancellationToken cancellationToken);

    /// <summary>Merge-patches <c>spec.ports</c> (the whole list); null when there is no such workspace.</summary>
    Task<WorkspaceResource?> SetPortsAsync(string name, IReadOnlyList<SharedPortSpec> ports, CancellationToken cancellationToken);

    /// <summary>True when a delete was accepted, false when the workspace was already gone.</summary>
    Task<bool> DeleteAsync(string name, CancellationToken cancellationToken);
}

public static class WorkspaceStoreExtensions
{
    /// <summary>
    /// Applies <paramref name="change"/> (false: nothing to change) and writes the workspace, or its status,
    /// retried on a fresh copy after a conflict (<see cref="ConflictRetry"/>). Returns the stored workspace,
    /// or null when it is gone.
    /// </summary>
    public static Task<WorkspaceResource?> UpdateAsync(this IWorkspaceStore store, WorkspaceResource current, Func<WorkspaceResource, bool> change, bool status, CancellationToken cancellationToken) =>
        ConflictRetry.UpdateAsync(
            current,
            change,
            workspace => store.ReplaceAsync(workspace, status, cancellationToken),
            () => store.GetAsync(current.Sid, cancellationToken));
}
