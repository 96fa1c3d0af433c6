using System.Text.Json.Nodes;

namespace WorkspaceOperator.Kubernetes;

/// <summary>
/// The few Kubernetes API calls the operator makes, typed. No client library restores here
/// (../shared/PACKAGES.md), so this is ours: HttpClient + System.Text.Json, namespaced resources only.
/// </summary>
public interface IKubernetesClient
{
    /// <summary>The object, or null when it does not exist (404).</summary>
    Task<T?> GetAsync<T>(ResourceKind kind, string ns, string name, CancellationToken cancellationToken)
        where T : KubernetesObject;

    Task<KubernetesList<T>> ListAsync<T>(ResourceKind kind, string ns, string? labelSelector, CancellationToken cancellationToken)
        where T : KubernetesObject;

    /// <summary>
    /// Events after <paramref name="resourceVersion"/> until the server ends the stream. Throws a
    /// <see cref="KubernetesApiException"/> with <see cref="KubernetesApiException.IsExpired"/> when that
    /// version is too old (410, either as the answer or as an ERROR event): list again.
    /// </summary>
    IAsyncEnumerable<WatchEvent<T>> WatchAsync<T>(ResourceKind kind, string ns, string resourceVersion, string? labelSelector, CancellationToken cancellationToken)
        where T : KubernetesObject;

    Task<T> CreateAsync<T>(ResourceKind kind, T value, CancellationToken cancellationToken)
        where T : KubernetesObject;

    /// <summary>PUT with the object's resourceVersion: 409 (conflict) when someone else changed it first.</summary>
    Task<T> ReplaceAsync<T>(ResourceKind kind, T value, CancellationToken cancellationToken)
        where T : KubernetesObject;

    /// <summary>PUT to the status subresource: only status changes, the spec is ignored by the server.</summary>
    Task<T> ReplaceStatusAsync<T>(ResourceKind kind, T value, CancellationToken cancellationToken)
        where T : KubernetesObject;

    /// <summary>JSON merge patch (RFC 7386), optionally of a subresource such as <c>status</c>.</summary>
    Task<T> PatchAsync<T>(ResourceKind kind, string ns, string name, JsonNode patch, string? subresource, CancellationToken cancellationToken)
        where T : KubernetesObject;

    /// <summary>True when a delete was accepted, false when the object was already gone.</summary>
    Task<bool> DeleteAsync(ResourceKind kind, string ns, string name, CancellationToken cancellationToken);
}
