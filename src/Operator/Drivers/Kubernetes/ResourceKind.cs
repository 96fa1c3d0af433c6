namespace Operator.Drivers.Kubernetes;

/// <summary>Where a kind of namespaced resource lives on the API server.</summary>
public sealed record ResourceKind(string Group, string Version, string Plural, string Kind)
{
    public static readonly ResourceKind Pods = new("", "v1", "pods", "Pod");
    public static readonly ResourceKind PersistentVolumeClaims = new("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim");
    public static readonly ResourceKind Leases = new("coordination.k8s.io", "v1", "leases", "Lease");

    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

    /// <summary><c>api/v1/namespaces/ns/pods</c> or <c>apis/group/version/namespaces/ns/plural</c>.</summary>
    public string CollectionPath(string ns) => Group.Length == 0
        ? $"api/{Version}/namespaces/{Uri.EscapeDataString(ns)}/{Plural}"
        : $"apis/{Group}/{Version}/namespaces/{Uri.EscapeDataString(ns)}/{Plural}";

    public string ObjectPath(string ns, string name) => $"{CollectionPath(ns)}/{Uri.EscapeDataString(name)}";
}
