using System.Security.Claims;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using WebApi.Accounts;
using WebApi.Data;
using WebApi.Tickets;

namespace WebApi.Workspaces;

public sealed record NewWorkspaceRequest(string? Name, string? Template, string? Spec, bool Start = false);

public sealed record OpenView(string Url);

/// <summary>A user's workspaces over HTTP: the request checked, then <see cref="WorkspaceLifecycle"/> does it.</summary>
public static partial class WorkspaceEndpoints
{
    [GeneratedRegex(@"^[\p{L}\p{N}][\p{L}\p{N} ._-]{0,63}$")]
    private static partial Regex NamePattern();

    public static IEndpointRouteBuilder MapWorkspaces(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/workspaces").WithTags("Workspaces").RequireAuthorization();
        api.MapGet("/", List);
        api.MapGet("/{sid}", Get);
        api.MapGet("/{sid}/events", WorkspaceEventEndpoints.Events);
        api.MapPost("/", Create).AddEndpointFilter<VerifiedEmailRequired>();
        api.MapPost("/{sid}/start", Start).AddEndpointFilter<VerifiedEmailRequired>();
        api.MapPost("/{sid}/stop", Stop);
        api.MapDelete("/{sid}", Delete);
        api.MapPost("/{sid}/open", Open);
        api.MapGet("/{sid}/ports", PortSharingEndpoints.List);
        api.MapPut("/{sid}/ports/{port}", PortSharingEndpoints.Set);
        return app;
    }

    internal static async Task<Ok<WorkspaceView[]>> List(ClaimsPrincipal user, WorkspaceLifecycle workspaces, WorkspaceViews views, HttpContext http) =>
        TypedResults.Ok((await workspaces.Owned(user.UserId()).OrderBy(w => w.CreatedAt).ToListAsync()).Select(w => views.For(w, http.Request.Scheme)).ToArray());

    internal static async Task<Results<Ok<WorkspaceView>, ProblemHttpResult>> Get(string sid, ClaimsPrincipal user, WorkspaceLifecycle workspaces, WorkspaceViews views, HttpContext http) =>
        await workspaces.FindAsync(user.UserId(), sid) is { } workspace ? TypedResults.Ok(views.For(workspace, http.Request.Scheme)) : WorkspaceProblems.NotYours(sid);

    internal static async Task<Results<Created<WorkspaceView>, ValidationProblem, ProblemHttpResult>> Create(
        NewWorkspaceRequest request, ClaimsPrincipal user, WebApiDb db, WorkspaceLifecycle workspaces, WorkspaceViews views, HttpContext http, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var name = request.Name?.Trim();
        if (name is null || !NamePattern().IsMatch(name))
        {
            errors["name"] = ["1 to 64 letters, digits, spaces, '.', '_' or '-', starting with a letter or digit"];
        }

        var template = await db.Templates.SingleOrDefaultAsync(t => t.Key == request.Template, cancellationToken);
        var spec = await db.Specs.SingleOrDefaultAsync(s => s.Key == request.Spec, cancellationToken);
        if (template is null)
        {
            errors["template"] = ["not one of GET /api/templates"];
        }

        if (spec is null)
        {
            errors["spec"] = ["not one of GET /api/specs"];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "The workspace request is invalid");
        }

        var (created, problem) = await workspaces.CreateAsync(user.UserId(), name!, template!, spec!, request.Start, cancellationToken);
        return created is null ? problem! : TypedResults.Created($"/api/workspaces/{created.Sid}", views.For(created, http.Request.Scheme));
    }

    internal static async Task<Results<Ok<WorkspaceView>, ProblemHttpResult>> Start(
        string sid, ClaimsPrincipal user, WorkspaceLifecycle workspaces, WorkspaceViews views, HttpContext http, CancellationToken cancellationToken)
    {
        var workspace = await workspaces.FindAsync(user.UserId(), sid, cancellationToken);
        if (workspace is null)
        {
            return WorkspaceProblems.NotYours(sid);
        }

        return await workspaces.StartAsync(workspace, cancellationToken) is { } problem ? problem : await ViewAsync(workspaces, user, sid, views, http);
    }

    internal static async Task<Results<Ok<WorkspaceView>, ProblemHttpResult>> Stop(
        string sid, ClaimsPrincipal user, WorkspaceLifecycle workspaces, WorkspaceViews views, HttpContext http, CancellationToken cancellationToken) =>
        await workspaces.StopAsync(user.UserId(), sid, cancellationToken) is { } problem ? problem : await ViewAsync(workspaces, user, sid, views, http);

    internal static async Task<Results<NoContent, ProblemHttpResult>> Delete(
        string sid, ClaimsPrincipal user, WorkspaceLifecycle workspaces, CancellationToken cancellationToken) =>
        await workspaces.DeleteAsync(user.UserId(), sid, cancellationToken) is { } problem ? problem : TypedResults.NoContent();

    internal static async Task<Results<Ok<OpenView>, ProblemHttpResult>> Open(string sid, ClaimsPrincipal user, WorkspaceLifecycle workspaces, TicketIssuer tickets, WorkspaceViews views, HttpContext http)
    {
        var workspace = await workspaces.FindAsync(user.UserId(), sid);
        if (workspace is null)
        {
            return WorkspaceProblems.NotYours(sid);
        }

        return OpenForOwner(workspace, tickets.EditorAddress(sid, http.Request.Scheme), tickets, views);
    }

    /// <summary><paramref name="address"/> (the editor or one of its ports) with the owner's ticket, if the workspace runs.</summary>
    /// <remarks>
    /// Only when it runs as far as the operator last said: a ticket for an editor the gateway has no route to
    /// would bounce the browser back here, and again (gitpod-io/gitpod#8125). The 409 names the workspace so
    /// the page can offer its start page instead.
    /// </remarks>
    internal static Results<Ok<OpenView>, ProblemHttpResult> OpenForOwner(Workspace workspace, string address, TicketIssuer tickets, WorkspaceViews views) =>
        views.IsOpenable(workspace)
            ? TypedResults.Ok(new OpenView(TicketIssuer.WithTicket(address, tickets.Issue(workspace.Sid, workspace.OwnerId, workspaceName: workspace.Name))))
            : TypedResults.Problem(
                detail: $"'{workspace.Name}' is not running: start it first.",
                statusCode: StatusCodes.Status409Conflict,
                title: "not_running",
                extensions: new Dictionary<string, object?> { ["sid"] = workspace.Sid });

    /// <summary>The workspace as it is after a change that succeeded (404 if it went meanwhile).</summary>
    internal static async Task<Results<Ok<WorkspaceView>, ProblemHttpResult>> ViewAsync(WorkspaceLifecycle workspaces, ClaimsPrincipal user, string sid, WorkspaceViews views, HttpContext http) =>
        await workspaces.FindAsync(user.UserId(), sid, http.RequestAborted) is { } workspace
            ? TypedResults.Ok(views.For(workspace, http.Request.Scheme))
            : WorkspaceProblems.NotYours(sid);
}
