using System.Text.Json;
using System.Text.Json.Serialization;
using Contracts.Routing;
using Contracts.Sharing;
using k8s;
using k8s.Models;
using Operator.Drivers.Kubernetes;

namespace Operator.Workspaces;

/// <summary>
/// The Workspace custom resource (deploy/crd.yaml), serialized with the official client's JSON settings.
/// Its name is the workspace id (sid) the gateway routes on, so it must be a DNS label: lowercase letters,
/// digits and '-', at most 63 characters. Fields we do not model are kept in <see cref="Unknown"/> and
/// written back, so a read-modify-replace never drops what a newer CRD version or another tool put there.
/// </summary>
public sealed class WorkspaceResource : IKubernetesObject<V1ObjectMeta>, ISpec<WorkspaceSpec>, IStatus<WorkspaceStatus?>
{
    public static readonly ResourceKind Resource = new("cloudide.dev", "v1alpha1", "workspaces", "Workspace");

    /// <summary>Holds deletion back until the pod and the volume are gone (the old operator leaked them).</summary>
    public const string Finalizer = "cloudide.dev/cleanup";

    public string ApiVersion { get; set; } = Resource.ApiVersion;

    public string Kind { get; set; } = Resource.Kind;

    public V1ObjectMeta Metadata { get; set; } = new();

    public WorkspaceSpec Spec { get; set; } = new();

    public WorkspaceStatus? Status { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }

    [JsonIgnore]
    public string Sid => Metadata.Name!;

    public bool HasFinalizer() => Metadata.Finalizers?.Contains(Finalizer) == true;
}

/// <summary>A list of Workspaces as the API answers it.</summary>
public sealed class WorkspaceResourceList : IKubernetesObject<V1ListMeta>, IItems<WorkspaceResource>
{
    public string ApiVersion { get; set; } = WorkspaceResource.Resource.ApiVersion;

    public string Kind { get; set; } = WorkspaceResource.Resource.Kind + "List";

    public V1ListMeta Metadata { get; set; } = new();

    public IList<WorkspaceResource> Items { get; set; } = [];
}

[JsonConverter(typeof(JsonStringEnumConverter<DesiredState>))]
public enum DesiredState
{
    Running,
    Stopped,
}

public sealed class WorkspaceSpec
{
    public string Image { get; set; } = "";

    /// <summary>Kubernetes quantities, e.g. <c>2</c>, <c>4Gi</c>, <c>10Gi</c>.</summary>
    public string Cpu { get; set; } = "1";

    public string Memory { get; set; } = "2Gi";

    public string Storage { get; set; } = "10Gi";

    /// <summary>A display string such as <c>2C4G10G</c>, as the old platform showed.</summary>
    public string? Hardware { get; set; }

    /// <summary>The port code-server listens on inside the workspace.</summary>
    public int Port { get; set; } = 9999;

    /// <summary>Where the volume is mounted; user data, extensions and the workspace folder live under it.</summary>
    public string MountPath { get; set; } = "/user_data";

    public DesiredState State { get; set; } = DesiredState.Running;

    /// <summary>The user the web API created it for (informational; access is the gateway's tickets).</summary>
    public string? Owner { get; set; }

    /// <summary>Dev-server ports shared beyond the owner; a port not listed is private. The editor never is.</summary>
    public List<SharedPortSpec>? Ports { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }
}

/// <summary>One shared port: <c>sharing</c> is <c>authenticated</c> or <c>public</c> (PortShares' words).</summary>
public sealed class SharedPortSpec
{
    public int Port { get; set; }

    public string Sharing { get; set; } = "private";

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }

    /// <summary>
    /// What the gateway is told (<see cref="PortShares"/>): entries the CRD's schema would refuse are left out,
    /// so a hand-edited resource can make a port private but never share one by accident.
    /// </summary>
    public static PortShares SharesOf(IEnumerable<SharedPortSpec>? ports)
    {
        var valid = new List<(int, PortSharing)>();
        foreach (var port in ports ?? [])
        {
            if (PortNumber.IsValid(port.Port) && PortShares.TryParseLevel(port.Sharing, out var sharing) && valid.Count < PortShares.MaxPorts)
            {
                valid.Add((port.Port, sharing));
            }
        }

        return PortShares.From(valid);
    }
}

public sealed class WorkspaceStatus
{
    public string? Phase { get; set; }

    public long? ObservedGeneration { get; set; }

    public List<WorkspaceCondition>? Conditions { get; set; }

    /// <summary><c>ip:port</c> the gateway routes to; set only while Ready.</summary>
    public string? Address { get; set; }

    public string? PodIP { get; set; }

    public string? NodeName { get; set; }

    public int? Port { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }

    public WorkspaceCondition? Condition(string type) => Conditions?.FirstOrDefault(c => c.Type == type);
}

/// <summary>A condition in the Kubernetes convention (metav1.Condition).</summary>
public sealed class WorkspaceCondition
{
    /// <summary>The workspace's editor answers its readiness probe and its route is published.</summary>
    public const string Ready = "Ready";

    public required string Type { get; set; }

    /// <summary><c>True</c>, <c>False</c> or <c>Unknown</c>.</summary>
    public required string Status { get; set; }

    public required string Reason { get; set; }

    public string Message { get; set; } = "";

    public DateTimeOffset LastTransitionTime { get; set; }

    public long? ObservedGeneration { get; set; }
}
