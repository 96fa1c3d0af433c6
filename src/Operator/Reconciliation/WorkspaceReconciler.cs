using Contracts.Sharing;
using Contracts.Workspaces;
using Microsoft.Extensions.Options;
using Operator.Configuration;
using Operator.Routes;
using Operator.Workspaces;

namespace Operator.Reconciliation;

/// <summary>
/// Brings one workspace to its desired state, level-triggered: it reads the Workspace afresh, does the
/// next idempotent step, records what it saw in the status, and says when to look again. Called for
/// every watch event, on every resync, and again after errors (with backoff).
/// </summary>
internal sealed partial class WorkspaceReconciler(
    IWorkspaceStore workspaces,
    IWorkspaceDriver driver,
    IRoutePublisher routes,
    IOptions<OperatorOptions> options,
    TimeProvider time,
    ILogger<WorkspaceReconciler> logger)
{
    private readonly TimeSpan _poll = options.Value.Reconcile.PollInterval;

    /// <summary>Null: done until the next event or resync; otherwise look again after that long.</summary>
    public async Task<TimeSpan?> ReconcileAsync(string name, CancellationToken cancellationToken)
    {
        var workspace = await workspaces.GetAsync(name, cancellationToken);
        if (workspace is null)
        {
            // Gone without our finalizer running (removed by force): at least take its route away.
            await routes.RemoveRouteAsync(name, cancellationToken);
            await routes.EnsureSharesAsync(name, PortShares.None, cancellationToken);
            return null;
        }

        if (workspace.Metadata.DeletionTimestamp is not null)
        {
            return await DeleteAsync(workspace, cancellationToken);
        }

        if (!workspace.HasFinalizer())
        {
            workspace = await workspaces.UpdateAsync(workspace, AddFinalizer, status: false, cancellationToken);
            if (workspace is null)
            {
                return null;
            }
        }

        // Kept whether it runs or not: a public link to a stopped workspace's port is told "not running".
        await routes.EnsureSharesAsync(workspace.Sid, SharedPortSpec.SharesOf(workspace.Spec.Ports), cancellationToken);

        return workspace.Spec.State == DesiredState.Running
            ? await StartAsync(workspace, cancellationToken)
            : await StopAsync(workspace, cancellationToken);
    }

    private async Task<TimeSpan?> StartAsync(WorkspaceResource workspace, CancellationToken cancellationToken)
    {
        var seen = await driver.EnsureRunningAsync(workspace, cancellationToken);
        if (seen.State == WorkloadState.Ready)
        {
            // The route only ever points at an editor that answers its probe.
            await routes.EnsureRouteAsync(workspace.Sid, seen.Address!, cancellationToken);
            await RecordAsync(workspace, WorkspacePhase.Running, ready: true, seen, cancellationToken);
            return null;
        }

        await routes.RemoveRouteAsync(workspace.Sid, cancellationToken);
        var phase = seen.State == WorkloadState.Stuck ? WorkspacePhase.Failed : WorkspacePhase.Starting;
        await RecordAsync(workspace, phase, ready: false, seen, cancellationToken);

        // Stuck may clear (a node frees up, an image is pushed), only more slowly.
        return seen.State == WorkloadState.Stuck ? _poll * 5 : _poll;
    }

    private async Task<TimeSpan?> StopAsync(WorkspaceResource workspace, CancellationToken cancellationToken)
    {
        // Route first: no new request is sent to an editor that is going away.
        await routes.RemoveRouteAsync(workspace.Sid, cancellationToken);
        var stopped = await driver.EnsureStoppedAsync(workspace, cancellationToken);
        var seen = stopped
            ? new WorkloadObservation(WorkloadState.Stuck, WorkspaceReasons.Stopped, "the workspace is stopped; its volume is kept")
            : new WorkloadObservation(WorkloadState.Starting, WorkspaceReasons.Stopping, "waiting for the editor to exit");
        await RecordAsync(workspace, stopped ? WorkspacePhase.Stopped : WorkspacePhase.Stopping, ready: false, seen, cancellationToken);
        return stopped ? null : _poll;
    }

    private async Task<TimeSpan?> DeleteAsync(WorkspaceResource workspace, CancellationToken cancellationToken)
    {
        if (!workspace.HasFinalizer())
        {
            return null;
        }

        await routes.RemoveRouteAsync(workspace.Sid, cancellationToken);
        await routes.EnsureSharesAsync(workspace.Sid, PortShares.None, cancellationToken);
        if (!await driver.EnsureDeletedAsync(workspace, cancellationToken))
        {
            var seen = new WorkloadObservation(WorkloadState.Starting, WorkspaceReasons.Deleting, "waiting for the editor and its volume to be removed");
            await RecordAsync(workspace, WorkspacePhase.Deleting, ready: false, seen, cancellationToken);
            return _poll;
        }

        await workspaces.UpdateAsync(workspace, RemoveFinalizer, status: false, cancellationToken);
        LogDeleted(workspace.Sid);
        return null;
    }

    /// <summary>Writes the status only when it changed, so our own write does not wake us up forever.</summary>
    private async Task RecordAsync(WorkspaceResource workspace, string phase, bool ready, WorkloadObservation seen, CancellationToken cancellationToken)
    {
        var previousPhase = workspace.Status?.Phase;
        await workspaces.UpdateAsync(
            workspace,
            current => ApplyStatus(current, phase, ready, seen),
            status: true,
            cancellationToken);
        if (previousPhase != phase)
        {
            LogPhase(workspace.Sid, previousPhase ?? "(new)", phase, seen.Reason, seen.Message);
        }
    }

    private bool ApplyStatus(WorkspaceResource workspace, string phase, bool ready, WorkloadObservation seen)
    {
        var status = workspace.Status ??= new WorkspaceStatus();
        var generation = workspace.Metadata.Generation;
        var address = ready ? seen.Address : null;
        var changed = status.Phase != phase
            || status.ObservedGeneration != generation
            || status.Address != address
            || status.PodIP != seen.PodIP
            || status.NodeName != seen.NodeName
            || status.Port != seen.Port;

        status.Phase = phase;
        status.ObservedGeneration = generation;
        status.Address = address;
        status.PodIP = seen.PodIP;
        status.NodeName = seen.NodeName;
        status.Port = seen.Port;

        var conditionStatus = ready ? "True" : "False";
        status.Conditions ??= [];
        var condition = status.Condition(WorkspaceCondition.Ready);
        if (condition is null)
        {
            condition = new WorkspaceCondition { Type = WorkspaceCondition.Ready, Status = conditionStatus, Reason = seen.Reason };
            status.Conditions.Add(condition);
            condition.LastTransitionTime = time.GetUtcNow();
            changed = true;
        }
        else if (condition.Status != conditionStatus)
        {
            condition.LastTransitionTime = time.GetUtcNow();
            changed = true;
        }

        changed |= condition.Reason != seen.Reason || condition.Message != seen.Message || condition.ObservedGeneration != generation;
        condition.Status = conditionStatus;
        condition.Reason = seen.Reason;
        condition.Message = seen.Message;
        condition.ObservedGeneration = generation;
        return changed;
    }

    private static bool AddFinalizer(WorkspaceResource workspace)
    {
        if (workspace.HasFinalizer() || workspace.Metadata.DeletionTimestamp is not null)
        {
            return false;
        }

        (workspace.Metadata.Finalizers ??= []).Add(WorkspaceResource.Finalizer);
        return true;
    }

    private static bool RemoveFinalizer(WorkspaceResource workspace) =>
        workspace.Metadata.Finalizers?.Remove(WorkspaceResource.Finalizer) == true;

    [LoggerMessage(Level = LogLevel.Information, Message = "Workspace {Sid}: {Previous} -> {Phase} ({Reason}: {Detail})")]
    private partial void LogPhase(string sid, string previous, string phase, string reason, string detail);

    [LoggerMessage(Level = LogLevel.Information, Message = "Workspace {Sid}: editor and volume removed, finalizer released")]
    private partial void LogDeleted(string sid);
}
