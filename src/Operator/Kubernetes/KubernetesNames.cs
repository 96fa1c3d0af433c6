using System.Text.RegularExpressions;

namespace WorkspaceOperator.Kubernetes;

/// <summary>Kubernetes' naming rules the operator relies on.</summary>
public static partial class KubernetesNames
{
    /// <summary>
    /// A DNS label (RFC 1123): namespaces, and a Workspace's name, which is also its pod's name and the
    /// gateway's sid.
    /// </summary>
    [GeneratedRegex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")]
    public static partial Regex DnsLabel();

    /// <summary>
    /// <c>metav1.Time</c> on the wire: RFC 3339 in UTC, whole seconds (Go's layout rejects more digits
    /// and offsets).
    /// </summary>
    public const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss'Z'";
}
