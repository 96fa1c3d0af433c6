using System.Collections.Immutable;
using k8s;
using Operator.Drivers.Kubernetes;
using Operator.Workspaces;

namespace Operator.Reconciliation;

/// <summary>
/// Keeps an up-to-date copy of every Workspace through <see cref="ListWatch"/>. Every replica runs it: the
/// HTTP API answers from it, and the leader's controller takes its change notifications as work.
/// </summary>
internal sealed class WorkspaceInformer(IWorkspaceStore store, ILogger<WorkspaceInformer> logger) : BackgroundService
{
    private ImmutableDictionary<string, WorkspaceResource> _workspaces = ImmutableDictionary<string, WorkspaceResource>.Empty;
    private TaskCompletionSource _changed = NewSignal();
    private readonly TaskCompletionSource _synced = NewSignal();

    /// <summary>A workspace was added, changed or deleted (its name).</summary>
    public event Action<string>? Changed;

    /// <summary>Completes once the first list has been read.</summary>
    public Task Synced => _synced.Task;

    public IReadOnlyDictionary<string, WorkspaceResource> Workspaces => Volatile.Read(ref _workspaces);

    public WorkspaceResource? Get(string name) => Workspaces.GetValueOrDefault(name);

    /// <summary>Completes at the next change of any workspace (callers re-check their condition).</summary>
    public Task NextChange => Volatile.Read(ref _changed).Task;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        ListWatch.RunAsync(WorkspaceResource.Resource.Plural, store.ListAsync, store.WatchAsync, Listed, Apply, logger, stoppingToken);

    private void Listed(IReadOnlyList<WorkspaceResource> items)
    {
        var fresh = items.ToImmutableDictionary(item => item.Metadata.Name!);
        var previous = Interlocked.Exchange(ref _workspaces, fresh);
        _synced.TrySetResult();

        // Everything listed is work (the resync of a relist), and so is whatever vanished meanwhile.
        foreach (var name in fresh.Keys.Union(previous.Keys))
        {
            Notify(name);
        }
    }

    private void Apply(WatchEventType type, WorkspaceResource workspace)
    {
        var name = workspace.Metadata.Name!;
        if (type == WatchEventType.Deleted)
        {
            ImmutableInterlocked.TryRemove(ref _workspaces, name, out _);
        }
        else
        {
            ImmutableInterlocked.AddOrUpdate(ref _workspaces, name, workspace, (_, _) => workspace);
        }

        Notify(name);
    }

    private void Notify(string name)
    {
        Changed?.Invoke(name);
        Interlocked.Exchange(ref _changed, NewSignal()).TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
