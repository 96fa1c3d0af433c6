using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using k8s;
using Operator.Drivers.Kubernetes;
using Operator.Workspaces;

namespace Operator.Drivers.Local;

/// <summary>
/// <see cref="IWorkspaceStore"/> over an in-memory <see cref="ObjectTable"/> with the API server's rules:
/// the one-machine platform keeps its Workspace resources here (persisted by <see cref="LocalObjectFile"/>),
/// so the reconciler is the same code with or without a cluster. Objects cross in the official client's
/// JSON, as they would cross the wire.
/// </summary>
public sealed class InMemoryWorkspaceStore(ObjectTable table, string ns) : IWorkspaceStore
{
    public Task<WorkspaceResource?> GetAsync(string name, CancellationToken cancellationToken) =>
        Task.FromResult(table.Get(ns, name) is { } value ? ToTyped(value) : null);

    public Task<(IReadOnlyList<WorkspaceResource> Items, string Version)> ListAsync(CancellationToken cancellationToken)
    {
        var (items, version) = table.List(ns, labelSelector: null);
        return Task.FromResult<(IReadOnlyList<WorkspaceResource>, string)>(([.. items.Select(ToTyped)], version.ToString(CultureInfo.InvariantCulture)));
    }

    public async IAsyncEnumerable<(WatchEventType Type, WorkspaceResource Value)> WatchAsync(
        string resourceVersion, Action<Exception> onError, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        System.Threading.Channels.ChannelReader<(string Type, JsonObject Object)> events;
        try
        {
            events = table.Watch(ns, resourceVersion, labelSelector: null, cancellationToken);
        }
        catch (ObjectTableException ex) when (ex.StatusCode == HttpStatusCode.Gone)
        {
            // As an API server does: the stream carries one ERROR event and ends.
            onError(new KubernetesException(new k8s.Models.V1Status { Code = (int)ex.StatusCode, Reason = ex.Reason, Message = ex.Message }));
            yield break;
        }

        await foreach (var (type, value) in events.ReadAllAsync(CancellationToken.None))
        {
            var eventType = type switch
            {
                "ADDED" => WatchEventType.Added,
                "DELETED" => WatchEventType.Deleted,
                _ => WatchEventType.Modified,
            };
            yield return (eventType, ToTyped(value));
        }

        cancellationToken.ThrowIfCancellationRequested();
    }

    public Task<WorkspaceResource?> CreateAsync(WorkspaceResource workspace, CancellationToken cancellationToken)
    {
        try
        {
            return Task.FromResult<WorkspaceResource?>(ToTyped(table.Create(ns, ToJson(workspace))));
        }
        catch (ObjectTableException ex) when (ex.StatusCode == HttpStatusCode.Conflict)
        {
            return Task.FromResult<WorkspaceResource?>(null);
        }
    }

    public Task<(WriteOutcome Outcome, WorkspaceResource? Stored)> ReplaceAsync(WorkspaceResource workspace, bool status, CancellationToken cancellationToken)
    {
        try
        {
            return Task.FromResult<(WriteOutcome, WorkspaceResource?)>((WriteOutcome.Written, ToTyped(table.Replace(ns, workspace.Sid, ToJson(workspace), status))));
        }
        catch (ObjectTableException ex) when (ex.StatusCode is HttpStatusCode.Conflict or HttpStatusCode.NotFound)
        {
            return Task.FromResult<(WriteOutcome, WorkspaceResource?)>((ex.StatusCode == HttpStatusCode.Conflict ? WriteOutcome.Conflict : WriteOutcome.NotFound, null));
        }
    }

    public Task<WorkspaceResource?> SetDesiredStateAsync(string name, DesiredState state, CancellationToken cancellationToken) =>
        PatchSpec(name, new JsonObject { ["state"] = state.ToString() });

    public Task<WorkspaceResource?> SetPortsAsync(string name, IReadOnlyList<SharedPortSpec> ports, CancellationToken cancellationToken) =>
        PatchSpec(name, new JsonObject { ["ports"] = new JsonArray([.. ports.Select(p => new JsonObject { ["port"] = p.Port, ["sharing"] = p.Sharing })]) });

    private Task<WorkspaceResource?> PatchSpec(string name, JsonObject spec)
    {
        try
        {
            var patch = new JsonObject { ["spec"] = spec };
            return Task.FromResult<WorkspaceResource?>(ToTyped(table.Patch(ns, name, patch, status: false)));
        }
        catch (ObjectTableException ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            return Task.FromResult<WorkspaceResource?>(null);
        }
    }

    public Task<bool> DeleteAsync(string name, CancellationToken cancellationToken) => Task.FromResult(table.Delete(ns, name));

    private static JsonObject ToJson(WorkspaceResource workspace) => JsonNode.Parse(KubernetesJson.Serialize(workspace))!.AsObject();

    private static WorkspaceResource ToTyped(JsonObject value) => KubernetesJson.Deserialize<WorkspaceResource>(value);
}
