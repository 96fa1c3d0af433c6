using System.Text.Json;
using System.Text.Json.Serialization;

namespace WorkspaceOperator.Kubernetes;

// The subset of core/v1 and coordination/v1 the operator writes and reads. Everything else an API
// server returns survives in the Unknown dictionaries.

public sealed class Pod : KubernetesObject
{
    public PodSpec Spec { get; set; } = new();

    public PodStatus? Status { get; set; }
}

public sealed class PodSpec
{
    public List<Container> Containers { get; set; } = [];

    public List<Volume>? Volumes { get; set; }

    public string? NodeName { get; set; }

    public string? RestartPolicy { get; set; }

    public long? TerminationGracePeriodSeconds { get; set; }

    public bool? AutomountServiceAccountToken { get; set; }

    public bool? EnableServiceLinks { get; set; }

    public PodSecurityContext? SecurityContext { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }
}

public sealed class PodSecurityContext
{
    public long? FsGroup { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }
}

public sealed class Container
{
    public required string Name { get; set; }

    public string? Image { get; set; }

    public string? ImagePullPolicy { get; set; }

    public List<string>? Command { get; set; }

    public List<string>? Args { get; set; }

    public List<EnvVar>? Env { get; set; }

    public List<ContainerPort>? Ports { get; set; }

    public ResourceRequirements? Resources { get; set; }

    public List<VolumeMount>? VolumeMounts { get; set; }

    public Probe? ReadinessProbe { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }
}

public sealed record EnvVar(string Name, string Value);

public sealed class ContainerPort
{
    public string? Name { get; set; }

    [JsonPropertyName("containerPort")]
    public int Port { get; set; }

    public string? Protocol { get; set; }
}

public sealed class ResourceRequirements
{
    public Dictionary<string, string>? Requests { get; set; }

    public Dictionary<string, string>? Limits { get; set; }
}

public sealed record VolumeMount(string Name, string MountPath);

public sealed class Volume
{
    public required string Name { get; set; }

    public PersistentVolumeClaimVolumeSource? PersistentVolumeClaim { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }
}

public sealed record PersistentVolumeClaimVolumeSource(string ClaimName);

public sealed class Probe
{
    public HttpGetAction? HttpGet { get; set; }

    public int? InitialDelaySeconds { get; set; }

    public int? PeriodSeconds { get; set; }

    public int? FailureThreshold { get; set; }
}

public sealed record HttpGetAction(string Path, int Port);

public sealed class PodStatus
{
    public string? Phase { get; set; }

    public string? PodIP { get; set; }

    public string? Reason { get; set; }

    public string? Message { get; set; }

    public List<PodCondition>? Conditions { get; set; }

    public List<ContainerStatus>? ContainerStatuses { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }
}

public sealed class PodCondition
{
    public string? Type { get; set; }

    public string? Status { get; set; }

    public string? Reason { get; set; }

    public string? Message { get; set; }
}

public sealed class ContainerStatus
{
    public string? Name { get; set; }

    public bool Ready { get; set; }

    public int RestartCount { get; set; }

    public ContainerState? State { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }
}

public sealed class ContainerState
{
    public ContainerStateDetail? Waiting { get; set; }

    public ContainerStateDetail? Terminated { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }
}

public sealed class ContainerStateDetail
{
    public string? Reason { get; set; }

    public string? Message { get; set; }

    public int? ExitCode { get; set; }
}

public sealed class PersistentVolumeClaim : KubernetesObject
{
    public PersistentVolumeClaimSpec Spec { get; set; } = new();

    public JsonElement? Status { get; set; }
}

public sealed class PersistentVolumeClaimSpec
{
    public List<string> AccessModes { get; set; } = [];

    public string? StorageClassName { get; set; }

    public ResourceRequirements Resources { get; set; } = new();

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }
}

public sealed class Lease : KubernetesObject
{
    public LeaseSpec Spec { get; set; } = new();
}

public sealed class LeaseSpec
{
    public string? HolderIdentity { get; set; }

    public int? LeaseDurationSeconds { get; set; }

    [JsonConverter(typeof(MicroTimeConverter))]
    public DateTimeOffset? AcquireTime { get; set; }

    [JsonConverter(typeof(MicroTimeConverter))]
    public DateTimeOffset? RenewTime { get; set; }

    public int? LeaseTransitions { get; set; }
}
