using System.Security.Cryptography;
using System.Text;
using Contracts.Workspaces;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Options;
using Operator.Configuration;
using Operator.Workspaces;

namespace Operator.Drivers.Kubernetes;

/// <summary>
/// A workspace on Kubernetes: a PersistentVolumeClaim <c>&lt;sid&gt;-data</c> kept across stops and a Pod
/// <c>&lt;sid&gt;</c> running code-server, both owned by the Workspace.
/// </summary>
internal sealed partial class KubernetesWorkspaceDriver(
    IKubernetes kubernetes,
    IOptions<OperatorOptions> options,
    ILogger<KubernetesWorkspaceDriver> logger) : IWorkspaceDriver
{
    public const string ContainerName = "code-server";
    public const string WorkspaceLabel = "cloudide.dev/workspace";
    public const string SpecHashAnnotation = "cloudide.dev/spec-hash";

    /// <summary>The uid and gid the editor and the user's shell run as (code-server images' own user).</summary>
    public const long WorkspaceUser = 1000;

    // Reasons a container waits that waiting will not cure.
    private static readonly HashSet<string> ImageFailures = ["ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"];

    // The old start script's lesson: code-server must get SIGTERM at once, or every stop takes the whole
    // grace period. The shell forwards it; user data and extensions live on the volume. The platform's machine
    // settings come in a variable that code-server and the user's terminals do not inherit. Getting Started
    // is code-server's advertisement for Coder's product, which the platform's users did not ask for.
    internal const string StartScript = """
        set -u
        mkdir -p "$CS_HOME/data" "$CS_HOME/extensions" "$CS_FOLDER"
        if [ -n "${CS_MACHINE_SETTINGS+set}" ]; then
          mkdir -p "$CS_HOME/data/Machine" && printf '%s\n' "$CS_MACHINE_SETTINGS" > "$CS_HOME/data/Machine/settings.json"
          unset CS_MACHINE_SETTINGS
        fi
        code-server --bind-addr "0.0.0.0:$CS_PORT" --auth none --disable-telemetry --disable-update-check \
          --disable-workspace-trust --disable-getting-started-override \
          --user-data-dir "$CS_HOME/data" --extensions-dir "$CS_HOME/extensions" "$CS_FOLDER" &
        child=$!
        trap 'kill -TERM "$child" 2>/dev/null; wait "$child"; exit 0' TERM INT
        wait "$child"
        """;

    // Background: the API answers at once and the garbage collector removes dependents.
    private static readonly V1DeleteOptions Background = new() { PropagationPolicy = "Background" };

    private readonly OperatorOptions _options = options.Value;
    private readonly string? _machineSettings = EditorSettings.Of(options.Value);

    public static string ClaimName(string sid) => sid + "-data";

    public async Task<WorkloadObservation> EnsureRunningAsync(WorkspaceResource workspace, CancellationToken cancellationToken)
    {
        var ns = workspace.Metadata.NamespaceProperty;
        var claim = await ApiErrors.ReadOrNullAsync(() => kubernetes.CoreV1.ReadNamespacedPersistentVolumeClaimAsync(ClaimName(workspace.Sid), ns, cancellationToken: cancellationToken));
        if (claim is null)
        {
            await CreateIgnoringExistingAsync(() => kubernetes.CoreV1.CreateNamespacedPersistentVolumeClaimAsync(NewClaim(workspace), ns, cancellationToken: cancellationToken));
            LogCreated("volume claim", workspace.Sid);
        }
        else if (claim.Metadata.DeletionTimestamp is not null)
        {
            return new(WorkloadState.Starting, "VolumeTerminating", "the previous volume is still being removed");
        }

        var wanted = NewPod(workspace);
        var pod = await ApiErrors.ReadOrNullAsync(() => kubernetes.CoreV1.ReadNamespacedPodAsync(workspace.Sid, ns, cancellationToken: cancellationToken));
        if (pod is null)
        {
            await CreateIgnoringExistingAsync(() => kubernetes.CoreV1.CreateNamespacedPodAsync(wanted, ns, cancellationToken: cancellationToken));
            LogCreated("pod", workspace.Sid);
            return new(WorkloadState.Starting, WorkspaceReasons.Scheduling, "waiting for a node with room for this workspace");
        }

        if (pod.Metadata.DeletionTimestamp is not null)
        {
            return new(WorkloadState.Starting, "PodTerminating", "waiting for the previous pod to exit");
        }

        // Pods are immutable: a changed image or size means a new pod (the volume stays).
        string? hash = null;
        pod.Metadata.Annotations?.TryGetValue(SpecHashAnnotation, out hash);
        if (hash != wanted.Metadata.Annotations[SpecHashAnnotation] || pod.Status?.Phase is "Failed" or "Succeeded")
        {
            await DeleteIgnoringMissingAsync(() => kubernetes.CoreV1.DeleteNamespacedPodAsync(workspace.Sid, ns, Background, cancellationToken: cancellationToken));
            LogReplacing(workspace.Sid, pod.Status?.Phase ?? "unknown");
            return new(WorkloadState.Starting, "PodReplaced", "the pod is being recreated with the current spec");
        }

        return Observe(pod, workspace.Spec.Port);
    }

    public async Task<bool> EnsureStoppedAsync(WorkspaceResource workspace, CancellationToken cancellationToken) =>
        await EnsurePodGoneAsync(workspace, cancellationToken);

    public async Task<bool> EnsureDeletedAsync(WorkspaceResource workspace, CancellationToken cancellationToken)
    {
        // Both at once: the claim's own protection finalizer holds it until the pod is gone.
        var podGone = await EnsurePodGoneAsync(workspace, cancellationToken);
        var ns = workspace.Metadata.NamespaceProperty;
        var name = ClaimName(workspace.Sid);
        var claimGone = await EnsureGoneAsync(
            "PersistentVolumeClaim",
            name,
            () => kubernetes.CoreV1.ReadNamespacedPersistentVolumeClaimAsync(name, ns, cancellationToken: cancellationToken),
            () => kubernetes.CoreV1.DeleteNamespacedPersistentVolumeClaimAsync(name, ns, Background, cancellationToken: cancellationToken));
        return podGone && claimGone;
    }

    /// <summary>What the pod's state means for the user, in the reconciler's terms.</summary>
    internal static WorkloadObservation Observe(V1Pod pod, int port)
    {
        var status = pod.Status;
        var container = status?.ContainerStatuses?.FirstOrDefault(c => c.Name == ContainerName);
        if (container is { Ready: true } && !string.IsNullOrEmpty(status!.PodIP))
        {
            return WorkloadObservation.Ready(status.PodIP, port, pod.Spec?.NodeName);
        }

        var scheduled = status?.Conditions?.FirstOrDefault(c => c.Type == "PodScheduled");
        if (scheduled is { Status: "False", Reason: "Unschedulable" })
        {
            return new(WorkloadState.Stuck, WorkspaceReasons.ResourcesExhausted, "no node has room for this workspace: " + (scheduled.Message ?? "unschedulable"));
        }

        var waiting = container?.State?.Waiting;
        if (waiting?.Reason is { } reason && ImageFailures.Contains(reason))
        {
            return new(WorkloadState.Stuck, WorkspaceReasons.ImagePullFailed, $"the workspace image cannot be pulled ({reason}): {waiting.Message}");
        }

        if (waiting?.Reason is "CrashLoopBackOff" or "CreateContainerConfigError" or "CreateContainerError")
        {
            return new(WorkloadState.Stuck, WorkspaceReasons.EditorFailing, $"the editor keeps failing to start ({waiting.Reason}, {container!.RestartCount} restarts): {waiting.Message}");
        }

        var (step, message) = Progress(status, container, pod.Spec?.NodeName);
        return new(WorkloadState.Starting, step, message)
        {
            PodIP = string.IsNullOrEmpty(status?.PodIP) ? null : status.PodIP,
            NodeName = pod.Spec?.NodeName,
        };
    }

    /// <summary>
    /// Where a start is on the way to Ready, in the order a user sees it: a node is found, the volume is
    /// attached (the kubelet mounts volumes before it builds the sandbox, so <c>PodReadyToStartContainers</c>
    /// says both; clusters before 1.29 lack it and skip that step), the image is pulled and the container
    /// created, the editor answers its probe.
    /// </summary>
    private static (string Reason, string Message) Progress(V1PodStatus? status, V1ContainerStatus? container, string? node)
    {
        var conditions = status?.Conditions;
        if (conditions?.FirstOrDefault(c => c.Type == "PodScheduled") is not { Status: "True" })
        {
            return (WorkspaceReasons.Scheduling, "waiting for a node with room for this workspace");
        }

        if (conditions.FirstOrDefault(c => c.Type == "PodReadyToStartContainers") is { Status: not "True" })
        {
            return (WorkspaceReasons.VolumeAttaching, $"scheduled on {node ?? "a node"}; attaching the workspace's volume");
        }

        if (container?.State?.Running is not null)
        {
            return (WorkspaceReasons.Probing, "the editor is starting; waiting for it to answer");
        }

        return container?.State?.Waiting?.Reason is { } waiting and not ("ContainerCreating" or "PodInitializing")
            ? (waiting, $"the editor's container is waiting ({waiting})")
            : (WorkspaceReasons.EditorCreating, "volume attached; pulling the image and creating the editor");
    }

    internal V1PersistentVolumeClaim NewClaim(WorkspaceResource workspace)
    {
        var kubernetesOptions = _options.Kubernetes;
        return new V1PersistentVolumeClaim
        {
            ApiVersion = "v1",
            Kind = "PersistentVolumeClaim",
            Metadata = OwnedMetadata(workspace, ClaimName(workspace.Sid)),
            Spec = new V1PersistentVolumeClaimSpec
            {
                AccessModes = [kubernetesOptions.VolumeAccessMode],
                StorageClassName = string.IsNullOrEmpty(kubernetesOptions.StorageClass) ? null : kubernetesOptions.StorageClass,
                Resources = new V1VolumeResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["storage"] = new(workspace.Spec.Storage) } },
            },
        };
    }

    internal V1Pod NewPod(WorkspaceResource workspace)
    {
        var spec = workspace.Spec;
        var kubernetesOptions = _options.Kubernetes;
        var mount = spec.MountPath.TrimEnd('/');
        var pod = new V1Pod
        {
            ApiVersion = "v1",
            Kind = "Pod",
            Metadata = OwnedMetadata(workspace, workspace.Sid),
            Spec = new V1PodSpec
            {
                RestartPolicy = "Always",
                TerminationGracePeriodSeconds = kubernetesOptions.TerminationGracePeriodSeconds,

                // The user's code runs here: it gets no credentials for our API and no list of our services.
                AutomountServiceAccountToken = false,
                EnableServiceLinks = false,

                // The user's shell runs here: it is nobody's root, gains no privilege (no setuid, no
                // capabilities) and makes only the system calls of the runtime's default seccomp profile:
                // the "restricted" Pod Security Standard, which the workspaces' namespace enforces.
                // code-server images run as uid 1000; the volume is made writable by it (its group), and
                // checked only at its root so a large volume mounts at once.
                SecurityContext = new V1PodSecurityContext
                {
                    RunAsNonRoot = true,
                    RunAsUser = WorkspaceUser,
                    RunAsGroup = WorkspaceUser,
                    FsGroup = WorkspaceUser,
                    FsGroupChangePolicy = "OnRootMismatch",
                    SeccompProfile = new V1SeccompProfile { Type = "RuntimeDefault" },
                },
                Containers =
                [
                    new V1Container
                    {
                        Name = ContainerName,
                        Image = spec.Image,
                        ImagePullPolicy = kubernetesOptions.ImagePullPolicy,
                        Command = ["/bin/sh", "-c", StartScript],
                        Env =
                        [
                            new V1EnvVar { Name = "CS_PORT", Value = spec.Port.ToString(System.Globalization.CultureInfo.InvariantCulture) },
                            new V1EnvVar { Name = "CS_HOME", Value = mount + "/.code-server" },
                            new V1EnvVar { Name = "CS_FOLDER", Value = mount + "/workspace" },
                        ],
                        Ports = [new V1ContainerPort { Name = "http", ContainerPort = spec.Port }],
                        SecurityContext = new V1SecurityContext
                        {
                            AllowPrivilegeEscalation = false,
                            Capabilities = new V1Capabilities { Drop = ["ALL"] },
                        },

                        // Requests equal limits: a workspace gets what its spec says, no more, no less.
                        Resources = new V1ResourceRequirements { Requests = Sizes(spec), Limits = Sizes(spec) },
                        VolumeMounts = [new V1VolumeMount { Name = "data", MountPath = spec.MountPath }],
                        ReadinessProbe = new V1Probe { HttpGet = new V1HTTPGetAction { Path = "/healthz", Port = spec.Port }, PeriodSeconds = 2, FailureThreshold = 3 },
                    },
                ],
                Volumes = [new V1Volume { Name = "data", PersistentVolumeClaim = new V1PersistentVolumeClaimVolumeSource { ClaimName = ClaimName(workspace.Sid) } }],
            },
        };
        pod.Metadata.Annotations = new Dictionary<string, string> { [SpecHashAnnotation] = Hash(pod.Spec) };

        // After the hash: new settings reach each editor at its next start, instead of restarting every running one.
        if (_machineSettings is not null)
        {
            pod.Spec.Containers[0].Env.Add(new V1EnvVar { Name = "CS_MACHINE_SETTINGS", Value = _machineSettings });
        }

        return pod;
    }

    private static Dictionary<string, ResourceQuantity> Sizes(WorkspaceSpec spec) =>
        new() { ["cpu"] = new(spec.Cpu), ["memory"] = new(spec.Memory) };

    private static V1ObjectMeta OwnedMetadata(WorkspaceResource workspace, string name) => new()
    {
        Name = name,
        NamespaceProperty = workspace.Metadata.NamespaceProperty,
        Labels = new Dictionary<string, string>
        {
            ["app.kubernetes.io/name"] = "workspace",
            ["app.kubernetes.io/managed-by"] = "workspace-operator",
            [WorkspaceLabel] = workspace.Sid,
        },

        // The garbage collector's safety net; the finalizer is the primary cleanup.
        OwnerReferences =
        [
            new V1OwnerReference
            {
                ApiVersion = WorkspaceResource.Resource.ApiVersion,
                Kind = WorkspaceResource.Resource.Kind,
                Name = workspace.Sid,
                Uid = workspace.Metadata.Uid,
                Controller = true,
                BlockOwnerDeletion = true,
            },
        ],
    };

    private static string Hash(V1PodSpec spec) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(KubernetesJson.Serialize(spec))))[..16];

    private Task<bool> EnsurePodGoneAsync(WorkspaceResource workspace, CancellationToken cancellationToken)
    {
        var ns = workspace.Metadata.NamespaceProperty;
        return EnsureGoneAsync(
            "Pod",
            workspace.Sid,
            () => kubernetes.CoreV1.ReadNamespacedPodAsync(workspace.Sid, ns, cancellationToken: cancellationToken),
            () => kubernetes.CoreV1.DeleteNamespacedPodAsync(workspace.Sid, ns, Background, cancellationToken: cancellationToken));
    }

    private async Task<bool> EnsureGoneAsync<T>(string kind, string name, Func<Task<T>> read, Func<Task> delete)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        var existing = await ApiErrors.ReadOrNullAsync(read);
        if (existing is null)
        {
            return true;
        }

        if (existing.Metadata.DeletionTimestamp is null)
        {
            await DeleteIgnoringMissingAsync(delete);
            LogDeleting(kind, name);
        }

        return false;
    }

    private static async Task CreateIgnoringExistingAsync<T>(Func<Task<T>> create)
    {
        try
        {
            await create();
        }
        catch (Exception ex) when (ex.IsConflict())
        {
            // Created by an earlier attempt whose answer we did not get: the next look sees it.
        }
    }

    private static async Task DeleteIgnoringMissingAsync(Func<Task> delete)
    {
        try
        {
            await delete();
        }
        catch (Exception ex) when (ex.IsNotFound())
        {
            // Gone already: what we wanted.
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Workspace {Sid}: {What} created")]
    private partial void LogCreated(string what, string sid);

    [LoggerMessage(Level = LogLevel.Information, Message = "Workspace {Sid}: replacing its pod (phase {Phase}, or its spec changed)")]
    private partial void LogReplacing(string sid, string phase);

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleting {Kind} {Name}")]
    private partial void LogDeleting(string kind, string name);
}
