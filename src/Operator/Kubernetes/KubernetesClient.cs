using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace WorkspaceOperator.Kubernetes;

internal sealed class KubernetesClient(HttpClient http, KubernetesCredentials credentials) : IKubernetesClient
{
    private static readonly MediaTypeHeaderValue MergePatch = new("application/merge-patch+json");

    // A watch is ended by the server after this long; the informer then resumes from the last version.
    private const int WatchTimeoutSeconds = 290;

    public async Task<T?> GetAsync<T>(ResourceKind kind, string ns, string name, CancellationToken cancellationToken)
        where T : KubernetesObject
    {
        using var request = await NewRequestAsync(HttpMethod.Get, kind.ObjectPath(ns, name), cancellationToken);
        using var response = await http.SendAsync(request, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        return await ReadAsync<T>(response, cancellationToken);
    }

    public async Task<KubernetesList<T>> ListAsync<T>(ResourceKind kind, string ns, string? labelSelector, CancellationToken cancellationToken)
        where T : KubernetesObject
    {
        var path = kind.CollectionPath(ns) + (labelSelector is null ? "" : "?labelSelector=" + Uri.EscapeDataString(labelSelector));
        using var request = await NewRequestAsync(HttpMethod.Get, path, cancellationToken);
        using var response = await http.SendAsync(request, cancellationToken);
        return await ReadAsync<KubernetesList<T>>(response, cancellationToken);
    }

    public async IAsyncEnumerable<WatchEvent<T>> WatchAsync<T>(
        ResourceKind kind,
        string ns,
        string resourceVersion,
        string? labelSelector,
        [EnumeratorCancellation] CancellationToken cancellationToken)
        where T : KubernetesObject
    {
        var path = new StringBuilder(kind.CollectionPath(ns))
            .Append("?watch=true&allowWatchBookmarks=true&timeoutSeconds=").Append(WatchTimeoutSeconds)
            .Append("&resourceVersion=").Append(Uri.EscapeDataString(resourceVersion));
        if (labelSelector is not null)
        {
            path.Append("&labelSelector=").Append(Uri.EscapeDataString(labelSelector));
        }

        using var request = await NewRequestAsync(HttpMethod.Get, path.ToString(), cancellationToken);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        await ThrowIfFailedAsync(response, cancellationToken);

        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var reader = new StreamReader(body, Encoding.UTF8);
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length == 0)
            {
                continue;
            }

            yield return ParseWatchLine<T>(line);
        }
    }

    public async Task<T> CreateAsync<T>(ResourceKind kind, T value, CancellationToken cancellationToken)
        where T : KubernetesObject
    {
        Stamp(kind, value);
        using var request = await NewRequestAsync(HttpMethod.Post, kind.CollectionPath(NamespaceOf(value)), cancellationToken);
        request.Content = JsonContent.Create(value, options: KubernetesJson.Options);
        using var response = await http.SendAsync(request, cancellationToken);
        return await ReadAsync<T>(response, cancellationToken);
    }

    public Task<T> ReplaceAsync<T>(ResourceKind kind, T value, CancellationToken cancellationToken)
        where T : KubernetesObject => PutAsync(kind, value, "", cancellationToken);

    public Task<T> ReplaceStatusAsync<T>(ResourceKind kind, T value, CancellationToken cancellationToken)
        where T : KubernetesObject => PutAsync(kind, value, "/status", cancellationToken);

    public async Task<T> PatchAsync<T>(ResourceKind kind, string ns, string name, JsonNode patch, string? subresource, CancellationToken cancellationToken)
        where T : KubernetesObject
    {
        var path = kind.ObjectPath(ns, name) + (subresource is null ? "" : "/" + subresource);
        using var request = await NewRequestAsync(HttpMethod.Patch, path, cancellationToken);
        request.Content = new StringContent(patch.ToJsonString(), Encoding.UTF8);
        request.Content.Headers.ContentType = MergePatch;
        using var response = await http.SendAsync(request, cancellationToken);
        return await ReadAsync<T>(response, cancellationToken);
    }

    public async Task<bool> DeleteAsync(ResourceKind kind, string ns, string name, CancellationToken cancellationToken)
    {
        using var request = await NewRequestAsync(HttpMethod.Delete, kind.ObjectPath(ns, name), cancellationToken);

        // Background: the API answers at once and the garbage collector removes dependents.
        request.Content = JsonContent.Create(new { apiVersion = "v1", kind = "DeleteOptions", propagationPolicy = "Background" });
        using var response = await http.SendAsync(request, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }

        await ThrowIfFailedAsync(response, cancellationToken);
        return true;
    }

    internal static WatchEvent<T> ParseWatchLine<T>(string line)
        where T : KubernetesObject
    {
        using var document = JsonDocument.Parse(line);
        var root = document.RootElement;
        var type = root.GetProperty("type").GetString();
        var value = root.GetProperty("object");
        switch (type)
        {
            case "ADDED":
                return new(WatchEventType.Added, value.Deserialize<T>(KubernetesJson.Options)!);
            case "MODIFIED":
                return new(WatchEventType.Modified, value.Deserialize<T>(KubernetesJson.Options)!);
            case "DELETED":
                return new(WatchEventType.Deleted, value.Deserialize<T>(KubernetesJson.Options)!);
            case "BOOKMARK":
                return new(WatchEventType.Bookmark, value.Deserialize<T>(KubernetesJson.Options)!);
            case "ERROR":
                var status = value.Deserialize<KubernetesStatus>(KubernetesJson.Options)!;
                throw new KubernetesApiException((HttpStatusCode)status.Code, status.Reason, status.Message ?? "watch error");
            default:
                throw new KubernetesApiException(HttpStatusCode.BadGateway, "UnknownEvent", $"unknown watch event type '{type}'");
        }
    }

    private async Task<T> PutAsync<T>(ResourceKind kind, T value, string subresource, CancellationToken cancellationToken)
        where T : KubernetesObject
    {
        Stamp(kind, value);
        var path = kind.ObjectPath(NamespaceOf(value), value.Metadata.Name ?? throw new ArgumentException("metadata.name is required"));
        using var request = await NewRequestAsync(HttpMethod.Put, path + subresource, cancellationToken);
        request.Content = JsonContent.Create(value, options: KubernetesJson.Options);
        using var response = await http.SendAsync(request, cancellationToken);
        return await ReadAsync<T>(response, cancellationToken);
    }

    private static void Stamp<T>(ResourceKind kind, T value)
        where T : KubernetesObject
    {
        value.ApiVersion ??= kind.ApiVersion;
        value.Kind ??= kind.Kind;
    }

    private static string NamespaceOf(KubernetesObject value) =>
        value.Metadata.Namespace ?? throw new ArgumentException("metadata.namespace is required");

    private async ValueTask<HttpRequestMessage> NewRequestAsync(HttpMethod method, string path, CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (await credentials.GetTokenAsync(cancellationToken) is { } token)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return request;
    }

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await ThrowIfFailedAsync(response, cancellationToken);
        return await response.Content.ReadFromJsonAsync<T>(KubernetesJson.Options, cancellationToken)
            ?? throw new KubernetesApiException(HttpStatusCode.BadGateway, "EmptyBody", "the API server answered with an empty body");
    }

    private static async Task ThrowIfFailedAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        KubernetesStatus? status = null;
        try
        {
            status = JsonSerializer.Deserialize<KubernetesStatus>(text, KubernetesJson.Options);
        }
        catch (JsonException)
        {
            // Not a Status (a proxy in between, say): keep the text.
        }

        var message = status?.Message ?? (text.Length > 200 ? text[..200] : text);
        throw new KubernetesApiException(
            response.StatusCode,
            status?.Reason,
            $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri?.AbsolutePath}: {(int)response.StatusCode} {message}");
    }
}
