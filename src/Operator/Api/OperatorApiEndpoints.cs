using System.Security.Cryptography;
using System.Text;
using Contracts.Workspaces;
using k8s.Models;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Operator.Configuration;
using Operator.Reconciliation;
using Operator.Workspaces;

namespace Operator.Api;

/// <summary>
/// The operator's HTTP API for the web API (the old RPC service, in JSON): create-and-start, start,
/// stop, delete, status. Start, stop and delete wait for the outcome (<c>?wait=</c> seconds, default
/// from configuration) and say what went wrong instead of a bare timeout.
/// </summary>
public static class OperatorApiEndpoints
{
    public static IEndpointRouteBuilder MapOperatorApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup(OperatorApiPaths.Workspaces).AddEndpointFilter<ApiTokenFilter>();
        api.MapGet("/", List);
        api.MapGet(OperatorApiPaths.One, Get);
        api.MapPost("/", Create);
        api.MapPost(OperatorApiPaths.Start, Start);
        api.MapPost(OperatorApiPaths.Stop, Stop);
        api.MapDelete(OperatorApiPaths.One, Delete);
        api.MapPut(OperatorApiPaths.Ports, SetPorts);
        api.MapGet(OperatorApiPaths.ListeningPorts, ListeningPorts);
        return app;
    }

    internal static Ok<WorkspaceInfo[]> List(WorkspaceInformer informer) =>
        TypedResults.Ok(informer.Workspaces.Values.OrderBy(w => w.Sid, StringComparer.Ordinal).Select(WorkspaceInfoMapping.ToInfo).ToArray());

    internal static Results<Ok<WorkspaceInfo>, ProblemHttpResult> Get(string sid, WorkspaceInformer informer) =>
        informer.Get(sid) is { } workspace ? TypedResults.Ok(workspace.ToInfo()) : NotFound(sid);

    /// <summary>Which ports the workspace's dev servers listen on, so its owner shares what runs instead of guessing.</summary>
    internal static Results<Ok<ListeningPortsInfo>, ProblemHttpResult> ListeningPorts(string sid, WorkspaceInformer informer, [FromServices] IListeningPorts? ports)
    {
        if (informer.Get(sid) is null)
        {
            return NotFound(sid);
        }

        return TypedResults.Ok(ports is null
            ? new ListeningPortsInfo(Detected: false, [])
            : new ListeningPortsInfo(Detected: true, ports.ListeningPorts(sid) ?? []));
    }

    internal static async Task<Results<Created<WorkspaceInfo>, ValidationProblem, ProblemHttpResult>> Create(
        CreateWorkspaceRequest request,
        int? wait,
        IWorkspaceStore workspaces,
        WorkspaceWaiter waiter,
        IOptions<OperatorOptions> options,
        CancellationToken cancellationToken)
    {
        var errors = WorkspaceRequestRules.Validate(request);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "The workspace request is invalid");
        }

        var defaults = new WorkspaceSpec();
        var workspace = new WorkspaceResource
        {
            Metadata = new V1ObjectMeta { Name = request.Sid, NamespaceProperty = options.Value.Namespace },
            Spec = new WorkspaceSpec
            {
                Image = request.Image!,
                Cpu = request.Cpu ?? defaults.Cpu,
                Memory = request.Memory ?? defaults.Memory,
                Storage = request.Storage ?? defaults.Storage,
                Hardware = request.Hardware,
                Port = request.Port ?? defaults.Port,
                MountPath = request.MountPath ?? defaults.MountPath,
                Owner = request.Owner,
                State = request.Start ? DesiredState.Running : DesiredState.Stopped,
            },
        };

        if (await workspaces.CreateAsync(workspace, cancellationToken) is not { } created)
        {
            return Problem(StatusCodes.Status409Conflict, "AlreadyExists", $"a workspace named '{request.Sid}' already exists");
        }

        var location = $"/api/workspaces/{created.Sid}";
        if (!request.Start)
        {
            return TypedResults.Created(location, created.ToInfo());
        }

        var outcome = await WaitForPhaseAsync(waiter, created, WorkspacePhase.Running, Timeout(wait, options), cancellationToken);
        return outcome.Result is Ok<WorkspaceInfo> ok
            ? TypedResults.Created(location, ok.Value)
            : (ProblemHttpResult)outcome.Result;
    }

    internal static async Task<Results<Ok<WorkspaceInfo>, ProblemHttpResult>> Start(
        string sid, int? wait, IWorkspaceStore workspaces, WorkspaceWaiter waiter, IOptions<OperatorOptions> options, CancellationToken cancellationToken) =>
        await ChangeStateAsync(sid, DesiredState.Running, WorkspacePhase.Running, wait, workspaces, waiter, options, cancellationToken);

    internal static async Task<Results<Ok<WorkspaceInfo>, ProblemHttpResult>> Stop(
        string sid, int? wait, IWorkspaceStore workspaces, WorkspaceWaiter waiter, IOptions<OperatorOptions> options, CancellationToken cancellationToken) =>
        await ChangeStateAsync(sid, DesiredState.Stopped, WorkspacePhase.Stopped, wait, workspaces, waiter, options, cancellationToken);

    /// <summary>
    /// Who may reach which dev-server port: written to the resource at once; the gateway follows within the
    /// propagation time (the reconciler writes hash <c>shares</c> and publishes the sid).
    /// </summary>
    internal static async Task<Results<Ok<WorkspaceInfo>, ValidationProblem, ProblemHttpResult>> SetPorts(
        string sid, SetPortsRequest request, IWorkspaceStore workspaces, CancellationToken cancellationToken)
    {
        var errors = WorkspaceRequestRules.Validate(request);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "The sharing request is invalid");
        }

        var ports = (request.Ports ?? []).Select(p => new SharedPortSpec { Port = p.Port, Sharing = p.Sharing }).ToList();
        return await workspaces.SetPortsAsync(sid, ports, cancellationToken) is { } changed
            ? TypedResults.Ok(changed.ToInfo())
            : NotFound(sid);
    }

    internal static async Task<Results<NoContent, Accepted, ProblemHttpResult>> Delete(
        string sid, int? wait, IWorkspaceStore workspaces, WorkspaceWaiter waiter, IOptions<OperatorOptions> options, CancellationToken cancellationToken)
    {
        if (!await workspaces.DeleteAsync(sid, cancellationToken))
        {
            return NotFound(sid);
        }

        var timeout = Timeout(wait, options);
        if (timeout == TimeSpan.Zero)
        {
            return TypedResults.Accepted($"/api/workspaces/{sid}");
        }

        var (gone, last) = await waiter.WaitAsync(sid, workspace => workspace is null, timeout, cancellationToken);
        return gone
            ? TypedResults.NoContent()
            : Problem(StatusCodes.Status504GatewayTimeout, "DeleteTimedOut", $"workspace '{sid}' is not gone after {timeout.TotalSeconds:0} s: {Describe(last)}", sid);
    }

    private static async Task<Results<Ok<WorkspaceInfo>, ProblemHttpResult>> ChangeStateAsync(
        string sid,
        DesiredState state,
        string phase,
        int? wait,
        IWorkspaceStore workspaces,
        WorkspaceWaiter waiter,
        IOptions<OperatorOptions> options,
        CancellationToken cancellationToken)
    {
        if (await workspaces.SetDesiredStateAsync(sid, state, cancellationToken) is not { } changed)
        {
            return NotFound(sid);
        }

        if (changed.Metadata.DeletionTimestamp is not null)
        {
            return Problem(StatusCodes.Status409Conflict, "Deleting", $"workspace '{sid}' is being deleted", sid);
        }

        return await WaitForPhaseAsync(waiter, changed, phase, Timeout(wait, options), cancellationToken);
    }

    private static async Task<Results<Ok<WorkspaceInfo>, ProblemHttpResult>> WaitForPhaseAsync(
        WorkspaceWaiter waiter, WorkspaceResource written, string phase, TimeSpan timeout, CancellationToken cancellationToken)
    {
        // Only a status that has seen this spec counts: a stale "Failed" from before a restart must not answer.
        var generation = written.Metadata.Generation ?? 0;

        // The cache may not have seen our write yet: absent counts as deleted only after it was present.
        var appeared = false;
        bool Settled(WorkspaceResource? workspace) =>
            workspace is null ? appeared : (appeared = true) && SettledPresent(workspace);
        bool SettledPresent(WorkspaceResource workspace) =>
            workspace.Metadata.DeletionTimestamp is not null
            || (workspace.Status?.ObservedGeneration >= generation
                && (workspace.Status.Phase == phase || (phase == WorkspacePhase.Running && workspace.Status.Phase == WorkspacePhase.Failed)));

        var (settled, last) = await waiter.WaitAsync(written.Sid, Settled, timeout, cancellationToken);
        if (last is null && !settled)
        {
            return Problem(StatusCodes.Status504GatewayTimeout, WorkspaceReasons.TimedOut, $"workspace '{written.Sid}' did not appear within {timeout.TotalSeconds:0} s: {Describe(null)}", written.Sid);
        }

        if (last is null)
        {
            return Problem(StatusCodes.Status409Conflict, "Deleted", $"workspace '{written.Sid}' was deleted meanwhile", written.Sid);
        }

        if (last.Metadata.DeletionTimestamp is not null)
        {
            return Problem(StatusCodes.Status409Conflict, "Deleting", $"workspace '{written.Sid}' is being deleted", written.Sid);
        }

        if (settled && last.Status!.Phase == phase)
        {
            return TypedResults.Ok(last.ToInfo());
        }

        if (settled)
        {
            // Failed: waiting longer will not help (no room on any node, image missing, editor failing).
            var ready = last.Status!.Condition(WorkspaceCondition.Ready);
            var status = ready?.Reason == WorkspaceReasons.ResourcesExhausted ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status502BadGateway;
            return Problem(status, ready?.Reason ?? "Failed", $"workspace '{written.Sid}' cannot start: {ready?.Message}", written.Sid);
        }

        return Problem(
            StatusCodes.Status504GatewayTimeout,
            WorkspaceReasons.TimedOut,
            $"workspace '{written.Sid}' is not {phase} after {timeout.TotalSeconds:0} s: {Describe(last)}",
            written.Sid);
    }

    private static string Describe(WorkspaceResource? workspace)
    {
        var ready = workspace?.Status?.Condition(WorkspaceCondition.Ready);
        return ready is null ? "no status yet (is the operator's leader running?)" : $"{workspace!.Status!.Phase}, {ready.Reason}: {ready.Message}";
    }

    private static TimeSpan Timeout(int? wait, IOptions<OperatorOptions> options)
    {
        var api = options.Value.Api;
        if (wait is null)
        {
            return api.DefaultWait;
        }

        var requested = TimeSpan.FromSeconds(Math.Max(0, wait.Value));
        return requested > api.MaxWait ? api.MaxWait : requested;
    }

    private static ProblemHttpResult NotFound(string sid) =>
        Problem(StatusCodes.Status404NotFound, "NotFound", $"no workspace named '{sid}'", sid);

    private static ProblemHttpResult Problem(int status, string reason, string detail, string? sid = null) =>
        TypedResults.Problem(
            detail: detail,
            statusCode: status,
            title: reason,
            extensions: sid is null ? null : new Dictionary<string, object?> { ["sid"] = sid, ["reason"] = reason });

    /// <summary>When <see cref="ApiOptions.Token"/> is set, every call must carry it as a Bearer token.</summary>
    private sealed class ApiTokenFilter(IOptions<OperatorOptions> options) : IEndpointFilter
    {
        private readonly byte[] _expected = Encoding.UTF8.GetBytes("Bearer " + options.Value.Api.Token);
        private readonly bool _required = options.Value.Api.Token.Length > 0;

        public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
        {
            if (_required)
            {
                var presented = Encoding.UTF8.GetBytes(context.HttpContext.Request.Headers.Authorization.ToString());
                if (!CryptographicOperations.FixedTimeEquals(presented, _expected))
                {
                    context.HttpContext.Response.Headers.WWWAuthenticate = "Bearer";
                    return Problem(StatusCodes.Status401Unauthorized, "Unauthorized", "this API needs the operator's API token");
                }
            }

            return await next(context);
        }
    }
}
