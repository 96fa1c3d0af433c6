namespace Operator.Drivers.Kubernetes;

/// <summary>Kubernetes' formats the operator relies on (its names are sids: <c>Contracts.Workspaces.WorkspaceIds</c>).</summary>
public static class KubernetesNames
{
    /// <summary>
    /// <c>metav1.Time</c> on the wire: RFC 3339 in UTC, whole seconds (Go's layout rejects more digits
    /// and offsets).
    /// </summary>
    public const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss'Z'";
}
