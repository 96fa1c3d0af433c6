using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Operator.Configuration;
using Operator.Drivers.Kubernetes;
using Operator.Drivers.Local;
using Operator.Workspaces;

namespace Tests.Common;

/// <summary>
/// An in-process Kubernetes API server over real HTTP, following the wire rules the operator depends on:
/// paths for core and grouped resources, bearer tokens, resourceVersion conflicts (409), 404, merge patch
/// only with its media type, the status subresource, finalizers, and watch streams (one JSON event per
/// line; an ERROR event with code 410 for a version that is too old). Faults are injected on request.
/// No real cluster is reachable from this machine; this is what the operator is tested against.
/// </summary>
public sealed class FakeApiServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Dictionary<string, ObjectTable> _byPlural;
    private readonly ConcurrentDictionary<string, int> _conflictsToInject = new();
    private int _conflictsServed;

    private FakeApiServer(WebApplication app, string? token, ObjectTable[] tables)
    {
        _app = app;
        Token = token;
        _byPlural = tables.ToDictionary(t => t.Kind.Plural);
    }

    public Uri Address { get; private set; } = null!;

    public string? Token { get; }

    public ConcurrentQueue<string> Requests { get; } = new();

    public int ConflictsServed => Volatile.Read(ref _conflictsServed);

    /// <summary>While true, watch requests answer 503 (an API server that is restarting).</summary>
    public bool RefuseWatches { get; set; }

    public ObjectTable Workspaces => _byPlural[WorkspaceResource.Resource.Plural];

    public ObjectTable Pods => _byPlural[ResourceKind.Pods.Plural];

    public ObjectTable Claims => _byPlural[ResourceKind.PersistentVolumeClaims.Plural];

    public ObjectTable Leases => _byPlural[ResourceKind.Leases.Plural];

    public static async Task<FakeApiServer> StartAsync(string? token = "test-token")
    {
        var clock = new VersionClock();
        ObjectTable[] tables =
        [
            new(WorkspaceResource.Resource, clock),
            new(ResourceKind.Pods, clock),
            new(ResourceKind.PersistentVolumeClaims, clock),
            new(ResourceKind.Leases, clock),
        ];
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var server = new FakeApiServer(app, token, tables);
        app.Run(server.HandleAsync);
        await app.StartAsync();
        server.Address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return server;
    }

    /// <summary>The next <paramref name="count"/> PUTs to <paramref name="plural"/> (any subresource) answer 409.</summary>
    public void InjectConflicts(string plural, int count) => _conflictsToInject[plural] = count;

    /// <summary>The official client pointed at this server, as the operator builds it from an explicit server and token.</summary>
    public IKubernetes CreateClient(string? token = null) =>
        new k8s.Kubernetes(KubernetesConfiguration.Load(new KubernetesOptions { Server = Address.ToString(), Token = token ?? Token ?? "" }));

    /// <summary>Sets a pod's status as the kubelet would.</summary>
    public void SetPodStatus(string ns, string name, JsonObject status) =>
        Pods.Patch(ns, name, new JsonObject { ["status"] = status }, status: true);

    public static JsonObject ReadyPodStatus(string ip) => new()
    {
        ["phase"] = "Running",
        ["podIP"] = ip,
        ["conditions"] = new JsonArray(new JsonObject { ["type"] = "Ready", ["status"] = "True" }),
        ["containerStatuses"] = new JsonArray(new JsonObject { ["name"] = "code-server", ["ready"] = true, ["restartCount"] = 0, ["state"] = new JsonObject { ["running"] = new JsonObject() } }),
    };

    public async ValueTask DisposeAsync()
    {
        foreach (var table in _byPlural.Values)
        {
            table.EndWatches();
        }

        using (var stop = new CancellationTokenSource(TimeSpan.FromSeconds(2)))
        {
            await _app.StopAsync(stop.Token);
        }

        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        Requests.Enqueue($"{request.Method} {request.Path}{request.QueryString}");
        if (Token is not null && request.Headers.Authorization.ToString() != "Bearer " + Token)
        {
            await WriteStatusAsync(context, HttpStatusCode.Unauthorized, "Unauthorized", "Unauthorized");
            return;
        }

        // /api/v1/namespaces/{ns}/{plural}[/{name}[/status]] or /apis/{group}/{version}/namespaces/...
        var segments = request.Path.Value!.Trim('/').Split('/');
        var offset = segments[0] == "api" ? 2 : segments[0] == "apis" ? 3 : -1;
        if (offset < 0 || segments.Length < offset + 3 || segments[offset] != "namespaces"
            || !_byPlural.TryGetValue(segments[offset + 2], out var table)
            || !request.Path.Value.StartsWith("/" + table.Kind.CollectionPath(segments[offset + 1]), StringComparison.Ordinal))
        {
            await WriteStatusAsync(context, HttpStatusCode.NotFound, "NotFound", "the server could not find the requested resource");
            return;
        }

        var ns = segments[offset + 1];
        var name = segments.Length > offset + 3 ? segments[offset + 3] : null;
        var subresource = segments.Length > offset + 4 ? segments[offset + 4] : null;
        try
        {
            await DispatchAsync(context, table, ns, name, subresource);
        }
        catch (ObjectTableException ex)
        {
            await WriteStatusAsync(context, ex.StatusCode, ex.Reason, ex.Message);
        }
    }

    private async Task DispatchAsync(HttpContext context, ObjectTable table, string ns, string? name, string? subresource)
    {
        var request = context.Request;
        var status = subresource == "status";
        switch (request.Method, name)
        {
            case ("GET", null) when request.Query["watch"] == "true":
                if (RefuseWatches)
                {
                    throw new ObjectTableException(HttpStatusCode.ServiceUnavailable, "ServiceUnavailable", "the server is currently unable to handle the request");
                }

                await WatchAsync(context, table, ns);
                return;
            case ("GET", null):
                var (items, version) = table.List(ns, request.Query["labelSelector"]);
                await WriteJsonAsync(context, HttpStatusCode.OK, new JsonObject
                {
                    ["apiVersion"] = table.Kind.ApiVersion,
                    ["kind"] = table.Kind.Kind + "List",
                    ["metadata"] = new JsonObject { ["resourceVersion"] = version.ToString(System.Globalization.CultureInfo.InvariantCulture) },
                    ["items"] = new JsonArray([.. items]),
                });
                return;
            case ("POST", null):
                await WriteJsonAsync(context, HttpStatusCode.Created, table.Create(ns, await ReadObjectAsync(request)));
                return;
            case ("GET", not null):
                var found = table.Get(ns, name) ?? throw new ObjectTableException(HttpStatusCode.NotFound, "NotFound", $"{table.Kind.Plural} \"{name}\" not found");
                await WriteJsonAsync(context, HttpStatusCode.OK, found);
                return;
            case ("PUT", not null):
                if (_conflictsToInject.TryGetValue(table.Kind.Plural, out var left) && left > 0
                    && _conflictsToInject.TryUpdate(table.Kind.Plural, left - 1, left))
                {
                    Interlocked.Increment(ref _conflictsServed);
                    throw new ObjectTableException(HttpStatusCode.Conflict, "Conflict", $"Operation cannot be fulfilled on {table.Kind.Plural} \"{name}\": the object has been modified (injected)");
                }

                await WriteJsonAsync(context, HttpStatusCode.OK, table.Replace(ns, name, await ReadObjectAsync(request), status));
                return;
            case ("PATCH", not null):
                if (request.ContentType != "application/merge-patch+json; charset=utf-8" && request.ContentType != "application/merge-patch+json")
                {
                    throw new ObjectTableException(HttpStatusCode.UnsupportedMediaType, "UnsupportedMediaType", $"the body of the request was in an unknown format ({request.ContentType})");
                }

                await WriteJsonAsync(context, HttpStatusCode.OK, table.Patch(ns, name, await ReadObjectAsync(request), status));
                return;
            case ("DELETE", not null):
                var before = table.Get(ns, name) ?? throw new ObjectTableException(HttpStatusCode.NotFound, "NotFound", $"{table.Kind.Plural} \"{name}\" not found");
                table.Delete(ns, name);
                await WriteJsonAsync(context, HttpStatusCode.OK, table.Get(ns, name) ?? before);
                return;
            default:
                throw new ObjectTableException(HttpStatusCode.MethodNotAllowed, "MethodNotAllowed", $"{request.Method} is not supported here");
        }
    }

    private static async Task WatchAsync(HttpContext context, ObjectTable table, string ns)
    {
        var query = context.Request.Query;
        var timeout = int.TryParse(query["timeoutSeconds"], out var seconds) ? TimeSpan.FromSeconds(seconds) : TimeSpan.FromMinutes(5);
        using var ends = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        ends.CancelAfter(timeout);
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        System.Threading.Channels.ChannelReader<(string Type, JsonObject Object)> events;
        try
        {
            events = table.Watch(ns, query["resourceVersion"].ToString(), query["labelSelector"], ends.Token);
        }
        catch (ObjectTableException ex) when (ex.StatusCode == HttpStatusCode.Gone)
        {
            // What an API server does for a too-old version on a watch: 200, one ERROR event, end.
            await WriteLineAsync(context, new JsonObject { ["type"] = "ERROR", ["object"] = StatusObject(ex.StatusCode, ex.Reason, ex.Message) });
            return;
        }

        await context.Response.Body.FlushAsync();
        try
        {
            await foreach (var (type, value) in events.ReadAllAsync(ends.Token))
            {
                await WriteLineAsync(context, new JsonObject { ["type"] = type, ["object"] = value });
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static async Task WriteLineAsync(HttpContext context, JsonObject line)
    {
        await context.Response.WriteAsync(line.ToJsonString() + "\n");
        await context.Response.Body.FlushAsync();
    }

    private static async Task<JsonObject> ReadObjectAsync(HttpRequest request) =>
        await JsonSerializer.DeserializeAsync<JsonObject>(request.Body)
        ?? throw new ObjectTableException(HttpStatusCode.BadRequest, "BadRequest", "empty body");

    private static Task WriteJsonAsync(HttpContext context, HttpStatusCode status, JsonObject body)
    {
        context.Response.StatusCode = (int)status;
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(body.ToJsonString(), Encoding.UTF8);
    }

    private static Task WriteStatusAsync(HttpContext context, HttpStatusCode status, string reason, string message) =>
        WriteJsonAsync(context, status, StatusObject(status, reason, message));

    private static JsonObject StatusObject(HttpStatusCode status, string reason, string message) => new()
    {
        ["kind"] = "Status",
        ["apiVersion"] = "v1",
        ["status"] = "Failure",
        ["message"] = message,
        ["reason"] = reason,
        ["code"] = (int)status,
    };
}
