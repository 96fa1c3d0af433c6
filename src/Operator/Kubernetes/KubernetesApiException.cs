using System.Net;

namespace WorkspaceOperator.Kubernetes;

/// <summary>An answer of the API server other than success, with its <c>Status</c> reason and message.</summary>
public class KubernetesApiException(HttpStatusCode statusCode, string? reason, string message)
    : Exception(message)
{
    public HttpStatusCode StatusCode { get; } = statusCode;

    /// <summary>The API's machine-readable reason, e.g. <c>Conflict</c>, <c>AlreadyExists</c>, <c>Expired</c>.</summary>
    public string? Reason { get; } = reason;

    public bool IsConflict => StatusCode == HttpStatusCode.Conflict;

    public bool IsNotFound => StatusCode == HttpStatusCode.NotFound;

    /// <summary>410: the resourceVersion a watch started from is too old; list again.</summary>
    public bool IsExpired => StatusCode == HttpStatusCode.Gone;
}
