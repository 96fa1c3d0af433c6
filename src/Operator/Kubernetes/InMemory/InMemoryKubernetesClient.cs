using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace WorkspaceOperator.Kubernetes.InMemory;

/// <summary>
/// <see cref="IKubernetesClient"/> over in-memory <see cref="ObjectTable"/>s: the one-machine platform
/// keeps its Workspace resources here (persisted by <see cref="LocalObjectFile"/>), so the reconciler is
/// the same code with or without a cluster.
/// </summary>
public sealed class InMemoryKubernetesClient : IKubernetesClient
{
    private readonly Dictionary<ResourceKind, ObjectTable> _tables;

    public InMemoryKubernetesClient(params ObjectTable[] tables) => _tables = tables.ToDictionary(table => table.Kind);

    public ObjectTable Table(ResourceKind kind) => _tables.TryGetValue(kind, out var table)
        ? table
        : throw new KubernetesApiException(System.Net.HttpStatusCode.NotFound, "NotFound", $"the server could not find the requested resource ({kind.Plural})");

    public Task<T?> GetAsync<T>(ResourceKind kind, string ns, string name, CancellationToken cancellationToken)
        where T : KubernetesObject =>
        Task.FromResult(Table(kind).Get(ns, name) is { } value ? ToTyped<T>(value) : null);

    public Task<KubernetesList<T>> ListAsync<T>(ResourceKind kind, string ns, string? labelSelector, CancellationToken cancellationToken)
        where T : KubernetesObject => Run(() =>
        {
            var (items, version) = Table(kind).List(ns, labelSelector);
            return new KubernetesList<T>
            {
                Metadata = new ListMeta { ResourceVersion = version.ToString(System.Globalization.CultureInfo.InvariantCulture) },
                Items = [.. items.Select(ToTyped<T>)],
            };
        });

    public async IAsyncEnumerable<WatchEvent<T>> WatchAsync<T>(
        ResourceKind kind,
        string ns,
        string resourceVersion,
        string? labelSelector,
        [EnumeratorCancellation] CancellationToken cancellationToken)
        where T : KubernetesObject
    {
        var reader = await Run(() => Table(kind).Watch(ns, resourceVersion, labelSelector, cancellationToken));
        await foreach (var (type, value) in reader.ReadAllAsync(CancellationToken.None))
        {
            var eventType = type switch
            {
                "ADDED" => WatchEventType.Added,
                "DELETED" => WatchEventType.Deleted,
                _ => WatchEventType.Modified,
            };
            yield return new WatchEvent<T>(eventType, ToTyped<T>(value));
        }

        cancellationToken.ThrowIfCancellationRequested();
    }

    public Task<T> CreateAsync<T>(ResourceKind kind, T value, CancellationToken cancellationToken)
        where T : KubernetesObject =>
        Run(() => ToTyped<T>(Table(kind).Create(value.Metadata.Namespace!, ToJson(value))));

    public Task<T> ReplaceAsync<T>(ResourceKind kind, T value, CancellationToken cancellationToken)
        where T : KubernetesObject =>
        Run(() => ToTyped<T>(Table(kind).Replace(value.Metadata.Namespace!, value.Metadata.Name!, ToJson(value), status: false)));

    public Task<T> ReplaceStatusAsync<T>(ResourceKind kind, T value, CancellationToken cancellationToken)
        where T : KubernetesObject =>
        Run(() => ToTyped<T>(Table(kind).Replace(value.Metadata.Namespace!, value.Metadata.Name!, ToJson(value), status: true)));

    public Task<T> PatchAsync<T>(ResourceKind kind, string ns, string name, JsonNode patch, string? subresource, CancellationToken cancellationToken)
        where T : KubernetesObject =>
        Run(() => ToTyped<T>(Table(kind).Patch(ns, name, (JsonObject)patch, subresource == "status")));

    public Task<bool> DeleteAsync(ResourceKind kind, string ns, string name, CancellationToken cancellationToken) =>
        Run(() => Table(kind).Delete(ns, name));

    private static Task<T> Run<T>(Func<T> action)
    {
        try
        {
            return Task.FromResult(action());
        }
        catch (ObjectTableException ex)
        {
            return Task.FromException<T>(new KubernetesApiException(ex.StatusCode, ex.Reason, ex.Message));
        }
    }

    private static JsonObject ToJson<T>(T value) => JsonSerializer.SerializeToNode(value, KubernetesJson.Options)!.AsObject();

    private static T ToTyped<T>(JsonObject value) => value.Deserialize<T>(KubernetesJson.Options)!;
}
