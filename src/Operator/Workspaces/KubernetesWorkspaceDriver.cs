using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using WorkspaceOperator.Configuration;
using WorkspaceOperator.Kubernetes;

namespace WorkspaceOperator.Workspaces;

/// <summary>
/// A workspace on Kubernetes: a PersistentVolumeClaim <c>&lt;sid&gt;-data</c> kept across stops and a Pod
/// <c>&lt;sid&gt;</c> running code-server, both owned by the Workspace.
/// </summary>
internal sealed partial class KubernetesWorkspaceDriver(
    IKubernetesClient kubernetes,
    IOptions<OperatorOptions> options,
    ILogger<KubernetesWorkspaceDriver> logger) : IWorkspaceDriver
{
    public const string ContainerName = "code-server";
    public const string WorkspaceLabel = "cloudide.dev/workspace";
    public const string SpecHashAnnotation = "cloudide.dev/spec-hash";

    // Reasons a container waits that waiting will not cure.
    private static readonly HashSet<string> ImageFailures = ["ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"];

    // The old start script's lesson: code-server must get SIGTERM at once, or every stop takes the whole
    // grace period. The shell forwards it; user data and extensions live on the volume.
    internal const string StartScript = """
        set -u
        mkdir -p "$CS_HOME/data" "$CS_HOME/extensions" "$CS_FOLDER"
        code-server --bind-addr "0.0.0.0:$CS_PORT" --auth none --disable-telemetry --disable-update-check \
          --user-data-dir "$CS_HOME/data" --extensions-dir "$CS_HOME/extensions" "$CS_FOLDER" &
        child=$!
        trap 'kill -TERM "$child" 2>/dev/null; wait "$child"; exit 0' TERM INT
        wait "$child"
        """;

    private readonly OperatorOptions _options = options.Value;

    public static string ClaimName(string sid) => sid + "-data";

    public async Task<WorkloadObservation> EnsureRunningAsync(Workspace workspace, CancellationToken cancellationToken)
    {
        var ns = workspace.Metadata.Namespace!;
        var claim = await kubernetes.GetAsync<PersistentVolumeClaim>(ResourceKind.PersistentVolumeClaims, ns, ClaimName(workspace.Sid), cancellationToken);
        if (claim is null)
        {
            await CreateIgnoringExistingAsync(ResourceKind.PersistentVolumeClaims, NewClaim(workspace), cancellationToken);
            LogCreated("volume claim", workspace.Sid);
        }
        else if (claim.Metadata.DeletionTimestamp is not null)
        {
            return new(WorkloadState.Starting, "VolumeTerminating", "the previous volume is still being removed");
        }

        var wanted = NewPod(workspace);
        var pod = await kubernetes.GetAsync<Pod>(ResourceKind.Pods, ns, workspace.Sid, cancellationToken);
        if (pod is null)
        {
            await CreateIgnoringExistingAsync(ResourceKind.Pods, wanted, cancellationToken);
            LogCreated("pod", workspace.Sid);
            return new(WorkloadState.Starting, "PodCreated", "waiting for the pod to be scheduled");
        }

        if (pod.Metadata.DeletionTimestamp is not null)
        {
            return new(WorkloadState.Starting, "PodTerminating", "waiting for the previous pod to exit");
        }

        // Pods are immutable: a changed image or size means a new pod (the volume stays).
        var hash = pod.Metadata.Annotations?.GetValueOrDefault(SpecHashAnnotation);
        if (hash != wanted.Metadata.Annotations![SpecHashAnnotation] || pod.Status?.Phase is "Failed" or "Succeeded")
        {
            await kubernetes.DeleteAsync(ResourceKind.Pods, ns, workspace.Sid, cancellationToken);
            LogReplacing(workspace.Sid, pod.Status?.Phase ?? "unknown");
            return new(WorkloadState.Starting, "PodReplaced", "the pod is being recreated with the current spec");
        }

        return Observe(pod, workspace.Spec.Port);
    }

    public async Task<bool> EnsureStoppedAsync(Workspace workspace, CancellationToken cancellationToken) =>
        await EnsureGoneAsync(ResourceKind.Pods, workspace.Metadata.Namespace!, workspace.Sid, cancellationToken);

    public async Task<bool> EnsureDeletedAsync(Workspace workspace, CancellationToken cancellationToken)
    {
        // Both at once: the claim's own protection finalizer holds it until the pod is gone.
        var podGone = await EnsureGoneAsync(ResourceKind.Pods, workspace.Metadata.Namespace!, workspace.Sid, cancellationToken);
        var claimGone = await EnsureGoneAsync(ResourceKind.PersistentVolumeClaims, workspace.Metadata.Namespace!, ClaimName(workspace.Sid), cancellationToken);
        return podGone && claimGone;
    }

    /// <summary>What the pod's state means for the user, in the reconciler's terms.</summary>
    internal static WorkloadObservation Observe(Pod pod, int port)
    {
        var status = pod.Status;
        var container = status?.ContainerStatuses?.FirstOrDefault(c => c.Name == ContainerName);
        if (container is { Ready: true } && !string.IsNullOrEmpty(status!.PodIP))
        {
            return WorkloadObservation.Ready(status.PodIP, port, pod.Spec.NodeName);
        }

        var scheduled = status?.Conditions?.FirstOrDefault(c => c.Type == "PodScheduled");
        if (scheduled is { Status: "False", Reason: "Unschedulable" })
        {
            return new(WorkloadState.Stuck, "ResourcesExhausted", "no node has room for this workspace: " + (scheduled.Message ?? "unschedulable"));
        }

        var waiting = container?.State?.Waiting;
        if (waiting?.Reason is { } reason && ImageFailures.Contains(reason))
        {
            return new(WorkloadState.Stuck, "ImagePullFailed", $"the workspace image cannot be pulled ({reason}): {waiting.Message}");
        }

        if (waiting?.Reason is "CrashLoopBackOff" or "CreateContainerConfigError" or "CreateContainerError")
        {
            return new(WorkloadState.Stuck, "EditorFailing", $"the editor keeps failing to start ({waiting.Reason}, {container!.RestartCount} restarts): {waiting.Message}");
        }

        var detail = waiting?.Reason ?? (container is null ? status?.Phase ?? "Pending" : "Probing");
        return new(WorkloadState.Starting, detail, detail == "Probing" ? "waiting for the editor to answer /healthz" : $"the pod is {detail}")
        {
            PodIP = string.IsNullOrEmpty(status?.PodIP) ? null : status.PodIP,
            NodeName = pod.Spec.NodeName,
        };
    }

    internal PersistentVolumeClaim NewClaim(Workspace workspace)
    {
        var kubernetesOptions = _options.Kubernetes;
        return new PersistentVolumeClaim
        {
            Metadata = OwnedMetadata(workspace, ClaimName(workspace.Sid)),
            Spec = new PersistentVolumeClaimSpec
            {
                AccessModes = [kubernetesOptions.VolumeAccessMode],
                StorageClassName = string.IsNullOrEmpty(kubernetesOptions.StorageClass) ? null : kubernetesOptions.StorageClass,
                Resources = new ResourceRequirements { Requests = new() { ["storage"] = workspace.Spec.Storage } },
            },
        };
    }

    internal Pod NewPod(Workspace workspace)
    {
        var spec = workspace.Spec;
        var kubernetesOptions = _options.Kubernetes;
        var mount = spec.MountPath.TrimEnd('/');
        var resources = new Dictionary<string, string> { ["cpu"] = spec.Cpu, ["memory"] = spec.Memory };
        var pod = new Pod
        {
            Metadata = OwnedMetadata(workspace, workspace.Sid),
            Spec = new PodSpec
            {
                RestartPolicy = "Always",
                TerminationGracePeriodSeconds = kubernetesOptions.TerminationGracePeriodSeconds,

                // The user's code runs here: it gets no credentials for our API and no list of our services.
                AutomountServiceAccountToken = false,
                EnableServiceLinks = false,

                // code-server images run as uid 1000; the volume must be writable by it.
                SecurityContext = new PodSecurityContext { FsGroup = 1000 },
                Containers =
                [
                    new Container
                    {
                        Name = ContainerName,
                        Image = spec.Image,
                        ImagePullPolicy = kubernetesOptions.ImagePullPolicy,
                        Command = ["/bin/sh", "-c", StartScript],
                        Env =
                        [
                            new("CS_PORT", spec.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                            new("CS_HOME", mount + "/.code-server"),
                            new("CS_FOLDER", mount + "/workspace"),
                        ],
                        Ports = [new ContainerPort { Name = "http", Port = spec.Port }],

                        // Requests equal limits: a workspace gets what its spec says, no more, no less.
                        Resources = new ResourceRequirements { Requests = resources, Limits = new(resources) },
                        VolumeMounts = [new("data", spec.MountPath)],
                        ReadinessProbe = new Probe { HttpGet = new("/healthz", spec.Port), PeriodSeconds = 2, FailureThreshold = 3 },
                    },
                ],
                Volumes = [new Volume { Name = "data", PersistentVolumeClaim = new(ClaimName(workspace.Sid)) }],
            },
        };
        pod.Metadata.Annotations = new() { [SpecHashAnnotation] = Hash(pod.Spec) };
        return pod;
    }

    private static ObjectMeta OwnedMetadata(Workspace workspace, string name) => new()
    {
        Name = name,
        Namespace = workspace.Metadata.Namespace,
        Labels = new()
        {
            ["app.kubernetes.io/name"] = "workspace",
            ["app.kubernetes.io/managed-by"] = "workspace-operator",
            [WorkspaceLabel] = workspace.Sid,
        },

        // The garbage collector's safety net; the finalizer is the primary cleanup.
        OwnerReferences =
        [
            new OwnerReference
            {
                ApiVersion = Workspace.Resource.ApiVersion,
                Kind = Workspace.Resource.Kind,
                Name = workspace.Sid,
                Uid = workspace.Metadata.Uid!,
                Controller = true,
                BlockOwnerDeletion = true,
            },
        ],
    };

    private static string Hash(PodSpec spec) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(spec, KubernetesJson.Options))))[..16];

    private async Task CreateIgnoringExistingAsync<T>(ResourceKind kind, T value, CancellationToken cancellationToken)
        where T : KubernetesObject
    {
        try
        {
            await kubernetes.CreateAsync(kind, value, cancellationToken);
        }
        catch (KubernetesApiException ex) when (ex.IsConflict)
        {
            // Created by an earlier attempt whose answer we did not get: the next look sees it.
        }
    }

    private async Task<bool> EnsureGoneAsync(ResourceKind kind, string ns, string name, CancellationToken cancellationToken)
    {
        var existing = await kubernetes.GetAsync<KubernetesObjectStub>(kind, ns, name, cancellationToken);
        if (existing is null)
        {
            return true;
        }

        if (existing.Metadata.DeletionTimestamp is null)
        {
            await kubernetes.DeleteAsync(kind, ns, name, cancellationToken);
            LogDeleting(kind.Kind, name);
        }

        return false;
    }

    /// <summary>Any object, read only for its metadata.</summary>
    private sealed class KubernetesObjectStub : KubernetesObject;

    [LoggerMessage(Level = LogLevel.Information, Message = "Workspace {Sid}: {What} created")]
    private partial void LogCreated(string what, string sid);

    [LoggerMessage(Level = LogLevel.Information, Message = "Workspace {Sid}: replacing its pod (phase {Phase}, or its spec changed)")]
    private partial void LogReplacing(string sid, string phase);

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleting {Kind} {Name}")]
    private partial void LogDeleting(string kind, string name);
}
