using System.Text.Json;
using System.Text.Json.Serialization;

namespace WorkspaceOperator.Kubernetes;

/// <summary>
/// The parts of a Kubernetes object every call needs. Fields we do not model are kept in
/// <see cref="Unknown"/> and written back, so a read-modify-replace never drops what another
/// controller (or a newer API server) put there.
/// </summary>
public abstract class KubernetesObject
{
    public string? ApiVersion { get; set; }

    public string? Kind { get; set; }

    public ObjectMeta Metadata { get; set; } = new();

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }
}

public sealed class ObjectMeta
{
    public string? Name { get; set; }

    public string? Namespace { get; set; }

    public string? Uid { get; set; }

    public string? ResourceVersion { get; set; }

    public long? Generation { get; set; }

    public DateTimeOffset? CreationTimestamp { get; set; }

    public DateTimeOffset? DeletionTimestamp { get; set; }

    public Dictionary<string, string>? Labels { get; set; }

    public Dictionary<string, string>? Annotations { get; set; }

    public List<string>? Finalizers { get; set; }

    public List<OwnerReference>? OwnerReferences { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }

    public bool HasFinalizer(string finalizer) => Finalizers?.Contains(finalizer) == true;
}

public sealed class OwnerReference
{
    public required string ApiVersion { get; set; }

    public required string Kind { get; set; }

    public required string Name { get; set; }

    public required string Uid { get; set; }

    public bool? Controller { get; set; }

    public bool? BlockOwnerDeletion { get; set; }
}

public sealed class ListMeta
{
    public string? ResourceVersion { get; set; }

    public string? Continue { get; set; }
}

/// <summary>A list answer: <c>{"metadata": {"resourceVersion": ...}, "items": [...]}</c>.</summary>
public sealed class KubernetesList<T>
    where T : KubernetesObject
{
    public ListMeta Metadata { get; set; } = new();

    public List<T> Items { get; set; } = [];
}

/// <summary>The API's error body (<c>kind: Status</c>).</summary>
public sealed class KubernetesStatus
{
    public string? Status { get; set; }

    public string? Message { get; set; }

    public string? Reason { get; set; }

    public int Code { get; set; }
}

public enum WatchEventType
{
    Added,
    Modified,
    Deleted,
    Bookmark,
}

/// <summary>One line of a watch stream.</summary>
public readonly record struct WatchEvent<T>(WatchEventType Type, T Value)
    where T : KubernetesObject;
