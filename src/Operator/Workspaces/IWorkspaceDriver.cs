using Contracts.Routing;
using Contracts.Workspaces;
namespace Operator.Workspaces;

/// <summary>
/// Makes a workspace's workload exist or not: a pod and a volume claim on Kubernetes, a code-server
/// process and a data directory on one machine. Every method is idempotent and reports what it sees
/// now; the reconciler calls again until the answer is final.
/// </summary>
public interface IWorkspaceDriver
{
    /// <summary>Ensures the volume and the workload exist and says whether the editor is ready.</summary>
    Task<WorkloadObservation> EnsureRunningAsync(WorkspaceResource workspace, CancellationToken cancellationToken);

    /// <summary>Removes the workload, keeps the volume. True once the workload is gone.</summary>
    Task<bool> EnsureStoppedAsync(WorkspaceResource workspace, CancellationToken cancellationToken);

    /// <summary>Removes the workload and the volume. True once both are gone.</summary>
    Task<bool> EnsureDeletedAsync(WorkspaceResource workspace, CancellationToken cancellationToken);
}

public enum WorkloadState
{
    /// <summary>On its way (scheduling, pulling, starting, probing): ask again soon.</summary>
    Starting,

    /// <summary>The editor answers its readiness probe at <see cref="WorkloadObservation.Address"/>.</summary>
    Ready,

    /// <summary>Will not get better by waiting (no node has room, the image cannot be pulled, code-server is missing).</summary>
    Stuck,
}

public sealed record WorkloadObservation(WorkloadState State, string Reason, string Message)
{
    public string? PodIP { get; init; }

    public int? Port { get; init; }

    public string? NodeName { get; init; }

    /// <summary>The Unix socket the editor listens on, instead of an address and port (the local driver's isolated editors).</summary>
    public string? Socket { get; init; }

    /// <summary>The route the gateway follows: <c>host:port</c>, or <c>unix:&lt;path&gt;</c> for an editor on a socket.</summary>
    public string? Address => Socket is not null ? UnixSocketRoute.Format(Socket)
        : PodIP is null || Port is null ? null
        : PodIP.Contains(':', StringComparison.Ordinal) ? $"[{PodIP}]:{Port}" : $"{PodIP}:{Port}";

    public static WorkloadObservation Ready(string podIP, int port, string? nodeName) =>
        new(WorkloadState.Ready, WorkspaceReasons.Running, "the editor answers its readiness probe") { PodIP = podIP, Port = port, NodeName = nodeName };

    public static WorkloadObservation ReadyOnSocket(string socket, string? nodeName) =>
        new(WorkloadState.Ready, WorkspaceReasons.Running, "the editor answers its readiness probe") { Socket = socket, NodeName = nodeName };
}

/// <summary>
/// Tells the controller that a workspace's workload changed on its own (a pod became unready, an
/// editor process exited), so it is reconciled now rather than at the next resync.
/// </summary>
public interface IWorkloadEvents
{
    /// <summary>Raised with the workspace's sid.</summary>
    event Action<string>? Changed;
}
