using System.Security.Claims;
using System.Text.RegularExpressions;
using Contracts.Sharing;
using Contracts.Workspaces;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using WebApi.Accounts;
using WebApi.Data;
using WebApi.Orchestration;
using WebApi.Tickets;

namespace WebApi.Workspaces;

public sealed record CreateWorkspaceRequest(string? Name, string? Template, string? Spec, bool Start = false);

public sealed record OpenView(string Url);

/// <summary>
/// A user's workspaces. Every rule is decided by the database in the statement that would break it
/// (README "Web API"): a conditional UPDATE or a constraint, never a read followed by a write.
/// </summary>
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

    internal static async Task<Ok<WorkspaceView[]>> List(ClaimsPrincipal user, WebApiDb db, WorkspaceViews views, HttpContext http) =>
        TypedResults.Ok((await Owned(db, user.UserId()).OrderBy(w => w.CreatedAt).ToListAsync()).Select(w => views.For(w, http.Request.Scheme)).ToArray());

    internal static async Task<Results<Ok<WorkspaceView>, ProblemHttpResult>> Get(string sid, ClaimsPrincipal user, WebApiDb db, WorkspaceViews views, HttpContext http) =>
        await Find(db, user.UserId(), sid) is { } workspace ? TypedResults.Ok(views.For(workspace, http.Request.Scheme)) : NotYours(sid);

    internal static async Task<Results<Created<WorkspaceView>, ValidationProblem, ProblemHttpResult>> Create(
        CreateWorkspaceRequest request, ClaimsPrincipal user, WebApiDb db, OperatorClient operatorApi, TimeProvider time, WorkspaceViews views, HttpContext http, CancellationToken cancellationToken)
    {
        var ownerId = user.UserId();
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

        Workspace workspace;
        await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
        {
            // The count is taken in the same statement that checks it; the CHECK constraint backs it up.
            var counted = await db.Users.Where(u => u.Id == ownerId && u.WorkspaceCount < Workspace.MaxPerUser)
                .ExecuteUpdateAsync(u => u.SetProperty(x => x.WorkspaceCount, x => x.WorkspaceCount + 1), cancellationToken);
            if (counted == 0)
            {
                return LimitReached();
            }

            workspace = new Workspace
            {
                Sid = WorkspaceIds.New(),
                OwnerId = ownerId,
                Name = name!,
                TemplateId = template!.Id,
                SpecId = spec!.Id,
                State = WorkspaceState.Stopped,
                CreatedAt = time.GetUtcNow(),
            };
            db.Workspaces.Add(workspace);
            try
            {
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateException ex) when (ConstraintViolation.Of(ex) == Violation.WorkspaceNameTaken)
            {
                return Problems.Conflict("name_taken", $"You already have a workspace named '{name}'.");
            }
            catch (DbUpdateException ex) when (ConstraintViolation.Of(ex) == Violation.WorkspaceLimitReached)
            {
                return LimitReached();
            }

            await transaction.CommitAsync(cancellationToken);
        }

        var created = await operatorApi.CreateAsync(workspace.Sid, template.Image, spec.Cpu, spec.Memory, spec.Storage, spec.Key, ownerId.ToString(System.Globalization.CultureInfo.InvariantCulture), cancellationToken);
        if (!created.Succeeded)
        {
            // Nothing was made on the other side: take the row back so the name and the slot are free again.
            await RemoveAsync(db, workspace, cancellationToken);
            return Unavailable(created);
        }

        if (request.Start)
        {
            var started = await StartAsync(db, workspace, operatorApi, time, cancellationToken);
            if (started is ProblemHttpResult problem)
            {
                return problem;
            }
        }

        return TypedResults.Created($"/api/workspaces/{workspace.Sid}", views.For(await Find(db, ownerId, workspace.Sid) ?? workspace, http.Request.Scheme));
    }

    internal static async Task<Results<Ok<WorkspaceView>, ProblemHttpResult>> Start(
        string sid, ClaimsPrincipal user, WebApiDb db, OperatorClient operatorApi, TimeProvider time, WorkspaceViews views, HttpContext http, CancellationToken cancellationToken)
    {
        var workspace = await Find(db, user.UserId(), sid);
        if (workspace is null)
        {
            return NotYours(sid);
        }

        var result = await StartAsync(db, workspace, operatorApi, time, cancellationToken);
        return result is ProblemHttpResult problem ? problem : TypedResults.Ok(views.For((await Find(db, user.UserId(), sid))!, http.Request.Scheme));
    }

    internal static async Task<Results<Ok<WorkspaceView>, ProblemHttpResult>> Stop(
        string sid, ClaimsPrincipal user, WebApiDb db, OperatorClient operatorApi, WorkspaceViews views, TimeProvider time, HttpContext http, CancellationToken cancellationToken)
    {
        var ownerId = user.UserId();
        var stopped = await StopAsync(db, operatorApi, Owned(db, ownerId).Where(w => w.Sid == sid), sid, StopCause.Owner, time, cancellationToken);
        if (stopped is null)
        {
            var current = await Find(db, ownerId, sid);
            return current is null ? NotYours(sid)
                : current.State == WorkspaceState.Stopped ? TypedResults.Ok(views.For(current, http.Request.Scheme))
                : Busy(current);
        }

        return stopped.Succeeded ? TypedResults.Ok(views.For((await Find(db, ownerId, sid))!, http.Request.Scheme)) : Unavailable(stopped);
    }

    /// <summary>
    /// Running (or Starting) -> Stopping in one statement, then the operator, then Stopped (or back to
    /// Running with the reason). Null when <paramref name="workspace"/> was not running: nothing was done.
    /// Shared by the endpoint and the idle stopper.
    /// </summary>
    internal static async Task<OperatorOutcome?> StopAsync(WebApiDb db, OperatorClient operatorApi, IQueryable<Workspace> workspace, string sid, StopCause cause, TimeProvider time, CancellationToken cancellationToken)
    {
        var marked = await workspace.Where(w => w.State == WorkspaceState.Running || w.State == WorkspaceState.Starting)
            .ExecuteUpdateAsync(w => w.SetProperty(x => x.State, WorkspaceState.Stopping), cancellationToken);
        if (marked == 0)
        {
            return null;
        }

        var stopped = await operatorApi.StopAsync(sid, cancellationToken);
        if (stopped.Succeeded)
        {
            await MarkStoppedAsync(db, sid, cause, null, time, cancellationToken);
        }
        else
        {
            await SetStateAsync(db, sid, WorkspaceState.Running, stopped.Detail, cancellationToken);
        }

        return stopped;
    }

    internal static async Task<Results<NoContent, ProblemHttpResult>> Delete(
        string sid, ClaimsPrincipal user, WebApiDb db, OperatorClient operatorApi, CancellationToken cancellationToken)
    {
        var ownerId = user.UserId();
        var marked = await Owned(db, ownerId).Where(w => w.Sid == sid && w.State == WorkspaceState.Stopped)
            .ExecuteUpdateAsync(w => w.SetProperty(x => x.State, WorkspaceState.Deleting), cancellationToken);
        if (marked == 0)
        {
            var current = await Find(db, ownerId, sid);
            return current is null ? NotYours(sid)
                : Problems.Conflict("running", $"'{current.Name}' is {StateWord(current)}: stop it before deleting it.");
        }

        var deleted = await operatorApi.DeleteAsync(sid, cancellationToken);
        if (!deleted.Succeeded)
        {
            await SetStateAsync(db, sid, WorkspaceState.Stopped, deleted.Detail, cancellationToken);
            return Unavailable(deleted);
        }

        await RemoveAsync(db, (await Find(db, ownerId, sid))!, cancellationToken);
        return TypedResults.NoContent();
    }

    internal static async Task<Results<Ok<OpenView>, ProblemHttpResult>> Open(string sid, ClaimsPrincipal user, WebApiDb db, TicketIssuer tickets, WorkspaceViews views, HttpContext http)
    {
        var workspace = await Find(db, user.UserId(), sid);
        if (workspace is null)
        {
            return NotYours(sid);
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

    private static async Task<IResult> StartAsync(WebApiDb db, Workspace workspace, OperatorClient operatorApi, TimeProvider time, CancellationToken cancellationToken)
    {
        int marked;
        try
        {
            // Stopped -> Starting in one statement; the one-active index refuses it if another is active.
            marked = await db.Workspaces.Where(w => w.Id == workspace.Id && w.State == WorkspaceState.Stopped)
                .ExecuteUpdateAsync(w => w.SetProperty(x => x.State, WorkspaceState.Starting).SetProperty(x => x.LastError, (string?)null), cancellationToken);
        }
        catch (System.Data.Common.DbException ex) when (ConstraintViolation.Of(ex) == Violation.AnotherWorkspaceActive)
        {
            return await AnotherActiveAsync(db, workspace, cancellationToken);
        }

        if (marked == 0)
        {
            var current = await db.Workspaces.AsNoTracking().SingleAsync(w => w.Id == workspace.Id, cancellationToken);
            return current.State == WorkspaceState.Running
                ? TypedResults.Ok()
                : Busy(current);
        }

        var started = await operatorApi.StartAsync(workspace.Sid, cancellationToken);
        if (started.Succeeded)
        {
            await db.Workspaces.Where(w => w.Id == workspace.Id)
                .ExecuteUpdateAsync(w => w.SetProperty(x => x.State, WorkspaceState.Running).SetProperty(x => x.StartedAt, time.GetUtcNow()), cancellationToken);
            return TypedResults.Ok();
        }

        // The operator keeps trying a start it was asked for; the page would call it Stopped while it might come
        // up later and hold the one-running slot unseen. Asked back to stopped (best effort: a workspace the
        // operator cannot even be reached for was not started either).
        await operatorApi.StopAsync(workspace.Sid, CancellationToken.None);
        var words = FailureWords.Describe(started.Reason, started.Detail);
        await MarkStoppedAsync(db, workspace.Sid, null, words, time, CancellationToken.None);
        return started.Reason == WorkspaceReasons.ResourcesExhausted
            ? Problems.Of(StatusCodes.Status503ServiceUnavailable, "no_capacity", words)
            : Problems.Of(started.Status == System.Net.HttpStatusCode.ServiceUnavailable ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status502BadGateway,
                started.Reason.Length > 0 ? started.Reason : "operator_failed", words);
    }

    private static async Task<ProblemHttpResult> AnotherActiveAsync(WebApiDb db, Workspace workspace, CancellationToken cancellationToken)
    {
        var active = await db.Workspaces.AsNoTracking()
            .Where(w => w.OwnerId == workspace.OwnerId && Workspace.Active.Contains(w.State))
            .Select(w => w.Name)
            .FirstOrDefaultAsync(cancellationToken);
        return Problems.Conflict("another_running", $"'{active ?? "another workspace"}' is running; stop it first (one running workspace at a time).");
    }

    private static async Task RemoveAsync(WebApiDb db, Workspace workspace, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var removed = await db.Workspaces.Where(w => w.Id == workspace.Id).ExecuteDeleteAsync(cancellationToken);
        await db.Users.Where(u => u.Id == workspace.OwnerId)
            .ExecuteUpdateAsync(u => u.SetProperty(x => x.WorkspaceCount, x => x.WorkspaceCount - removed), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>Stopped, and since when and why (null cause: it never got going); the start page says it.</summary>
    private static Task<int> MarkStoppedAsync(WebApiDb db, string sid, StopCause? cause, string? error, TimeProvider time, CancellationToken cancellationToken) =>
        db.Workspaces.Where(w => w.Sid == sid)
            .ExecuteUpdateAsync(
                w => w.SetProperty(x => x.State, WorkspaceState.Stopped).SetProperty(x => x.LastError, error)
                    .SetProperty(x => x.StoppedAt, time.GetUtcNow()).SetProperty(x => x.StopCause, cause),
                cancellationToken);

    private static Task<int> SetStateAsync(WebApiDb db, string sid, WorkspaceState state, string? error, CancellationToken cancellationToken) =>
        db.Workspaces.Where(w => w.Sid == sid)
            .ExecuteUpdateAsync(w => w.SetProperty(x => x.State, state).SetProperty(x => x.LastError, error), cancellationToken);

    private static IQueryable<Workspace> Owned(WebApiDb db, long ownerId) =>
        db.Workspaces.AsNoTracking().Include(w => w.Template).Include(w => w.Spec).Include(w => w.SharedPorts).Where(w => w.OwnerId == ownerId);

    internal static Task<Workspace?> Find(WebApiDb db, long ownerId, string sid) =>
        Owned(db, ownerId).SingleOrDefaultAsync(w => w.Sid == sid);

    // Someone else's workspace and no workspace look the same: sids are not probed this way.
    internal static ProblemHttpResult NotYours(string sid) => Problems.NotFound($"You have no workspace '{sid}'.");

    private static ProblemHttpResult Busy(Workspace workspace) =>
        Problems.Conflict("busy", $"'{workspace.Name}' is {StateWord(workspace)}; try again in a moment.");

    private static string StateWord(Workspace workspace) => workspace.State.ToString().ToLowerInvariant();

    private static ProblemHttpResult LimitReached() =>
        Problems.Unprocessable("workspace_limit", $"You have {Workspace.MaxPerUser} workspaces, the most allowed; delete one first.");

    internal static ProblemHttpResult Unavailable(OperatorOutcome outcome) =>
        Problems.Of(
            outcome.Status == System.Net.HttpStatusCode.ServiceUnavailable ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status502BadGateway,
            outcome.Reason.Length > 0 ? outcome.Reason : "operator_failed",
            outcome.Detail.Length > 0 ? outcome.Detail : "The workspace service could not do that; try again.");

}
