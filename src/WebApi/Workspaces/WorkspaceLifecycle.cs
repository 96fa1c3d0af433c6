using Contracts.Sharing;
using Contracts.Workspaces;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using WebApi.Catalog;
using WebApi.Data;
using WebApi.Orchestration;

namespace WebApi.Workspaces;

/// <summary>
/// A workspace's life as the web API keeps it: created, started, stopped (by its owner or for idleness),
/// deleted, its ports shared. Every rule is decided by the database in the statement that would break it (a
/// conditional UPDATE or a constraint, never a read followed by a write); the operator is told after the row
/// is marked, and the row follows what the operator answered. The endpoints, the idle stopper, tickets, port
/// sharing and the events stream all come here. A failure is the problem the user is shown.
/// </summary>
internal sealed class WorkspaceLifecycle(WebApiDb db, OperatorClient operatorApi, TimeProvider time)
{
    /// <summary>The owner's workspaces, read-only, with what their views show.</summary>
    public IQueryable<Workspace> Owned(long ownerId) =>
        db.Workspaces.AsNoTracking().Include(w => w.Template).Include(w => w.Spec).Include(w => w.SharedPorts).Where(w => w.OwnerId == ownerId);

    /// <summary>The owner's workspace <paramref name="sid"/>; null for someone else's as for none.</summary>
    public Task<Workspace?> FindAsync(long ownerId, string sid, CancellationToken cancellationToken = default) =>
        Owned(ownerId).SingleOrDefaultAsync(w => w.Sid == sid, cancellationToken);

    /// <summary>Whoever's workspace <paramref name="sid"/> is, with its shared ports (who may open what).</summary>
    public Task<Workspace?> FindAnyAsync(string sid, CancellationToken cancellationToken) =>
        db.Workspaces.AsNoTracking().Include(w => w.SharedPorts).SingleOrDefaultAsync(w => w.Sid == sid, cancellationToken);

    /// <summary>A row counted against the owner's limit, then the operator's resource; started when asked.</summary>
    public async Task<(Workspace? Created, ProblemHttpResult? Problem)> CreateAsync(
        long ownerId, string name, Template template, Spec spec, bool start, CancellationToken cancellationToken)
    {
        Workspace workspace;
        await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
        {
            // The count is taken in the same statement that checks it; the CHECK constraint backs it up.
            var counted = await db.Users.Where(u => u.Id == ownerId && u.WorkspaceCount < Workspace.MaxPerUser)
                .ExecuteUpdateAsync(u => u.SetProperty(x => x.WorkspaceCount, x => x.WorkspaceCount + 1), cancellationToken);
            if (counted == 0)
            {
                return (null, WorkspaceProblems.LimitReached());
            }

            workspace = new Workspace
            {
                Sid = WorkspaceIds.New(),
                OwnerId = ownerId,
                Name = name,
                TemplateId = template.Id,
                SpecId = spec.Id,
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
                return (null, Problems.Conflict("name_taken", $"You already have a workspace named '{name}'."));
            }
            catch (DbUpdateException ex) when (ConstraintViolation.Of(ex) == Violation.WorkspaceLimitReached)
            {
                return (null, WorkspaceProblems.LimitReached());
            }

            await transaction.CommitAsync(cancellationToken);
        }

        var created = await operatorApi.CreateAsync(workspace.Sid, template.Image, spec.Cpu, spec.Memory, spec.Storage, spec.Key, ownerId.ToString(System.Globalization.CultureInfo.InvariantCulture), cancellationToken);
        if (!created.Succeeded)
        {
            // Nothing was made on the other side: take the row back so the name and the slot are free again.
            await RemoveAsync(workspace, cancellationToken);
            return (null, WorkspaceProblems.Unavailable(created));
        }

        if (start && await StartAsync(workspace, cancellationToken) is { } problem)
        {
            return (null, problem);
        }

        return (await FindAsync(ownerId, workspace.Sid, cancellationToken) ?? workspace, null);
    }

    /// <summary>
    /// Stopped → Starting in one statement (the one-active index refuses it while another is active), then the
    /// operator, then Running; a start that failed is asked back to stopped and its reason kept in words.
    /// Null when it runs (already, or now).
    /// </summary>
    public async Task<ProblemHttpResult?> StartAsync(Workspace workspace, CancellationToken cancellationToken)
    {
        int marked;
        try
        {
            marked = await db.Workspaces.Where(w => w.Id == workspace.Id && w.State == WorkspaceState.Stopped)
                .ExecuteUpdateAsync(w => w.SetProperty(x => x.State, WorkspaceState.Starting).SetProperty(x => x.LastError, (string?)null), cancellationToken);
        }
        catch (System.Data.Common.DbException ex) when (ConstraintViolation.Of(ex) == Violation.AnotherWorkspaceActive)
        {
            return await AnotherActiveAsync(workspace, cancellationToken);
        }

        if (marked == 0)
        {
            var current = await db.Workspaces.AsNoTracking().SingleAsync(w => w.Id == workspace.Id, cancellationToken);
            return current.State == WorkspaceState.Running ? null : WorkspaceProblems.Busy(current);
        }

        var started = await operatorApi.StartAsync(workspace.Sid, cancellationToken);
        if (started.Succeeded)
        {
            await db.Workspaces.Where(w => w.Id == workspace.Id)
                .ExecuteUpdateAsync(w => w.SetProperty(x => x.State, WorkspaceState.Running).SetProperty(x => x.StartedAt, time.GetUtcNow()), cancellationToken);
            return null;
        }

        // The operator keeps trying a start it was asked for; the page would call it Stopped while it might come
        // up later and hold the one-running slot unseen. Asked back to stopped (best effort: a workspace the
        // operator cannot even be reached for was not started either).
        await operatorApi.StopAsync(workspace.Sid, CancellationToken.None);
        var words = FailureWords.Describe(started.Reason, started.Detail);
        await MarkStoppedAsync(workspace.Sid, null, words, CancellationToken.None);
        return started.Reason == WorkspaceReasons.ResourcesExhausted
            ? Problems.Of(StatusCodes.Status503ServiceUnavailable, "no_capacity", words)
            : Problems.Of(started.Status == System.Net.HttpStatusCode.ServiceUnavailable ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status502BadGateway,
                started.Reason.Length > 0 ? started.Reason : "operator_failed", words);
    }

    /// <summary>The owner's Stop: stopped already is no failure; Starting or Stopping is busy.</summary>
    public async Task<ProblemHttpResult?> StopAsync(long ownerId, string sid, CancellationToken cancellationToken)
    {
        var stopped = await StopAsync(db.Workspaces.Where(w => w.OwnerId == ownerId && w.Sid == sid), sid, StopCause.Owner, cancellationToken);
        if (stopped is null)
        {
            var current = await FindAsync(ownerId, sid, cancellationToken);
            return current is null ? WorkspaceProblems.NotYours(sid)
                : current.State == WorkspaceState.Stopped ? null
                : WorkspaceProblems.Busy(current);
        }

        return stopped.Succeeded ? null : WorkspaceProblems.Unavailable(stopped);
    }

    /// <summary>Stops a workspace nobody used for the idle timeout; null when it was no longer running.</summary>
    public Task<OperatorOutcome?> StopIdleAsync(long workspaceId, string sid, CancellationToken cancellationToken) =>
        StopAsync(db.Workspaces.Where(w => w.Id == workspaceId), sid, StopCause.Idle, cancellationToken);

    /// <summary>Stopped → Deleting in one statement, then the operator, then the row and its slot are gone.</summary>
    public async Task<ProblemHttpResult?> DeleteAsync(long ownerId, string sid, CancellationToken cancellationToken)
    {
        var marked = await db.Workspaces.Where(w => w.OwnerId == ownerId && w.Sid == sid && w.State == WorkspaceState.Stopped)
            .ExecuteUpdateAsync(w => w.SetProperty(x => x.State, WorkspaceState.Deleting), cancellationToken);
        if (marked == 0)
        {
            var current = await FindAsync(ownerId, sid, cancellationToken);
            return current is null ? WorkspaceProblems.NotYours(sid)
                : Problems.Conflict("running", $"'{current.Name}' is {WorkspaceProblems.StateWord(current)}: stop it before deleting it.");
        }

        var deleted = await operatorApi.DeleteAsync(sid, cancellationToken);
        if (!deleted.Succeeded)
        {
            await SetStateAsync(sid, WorkspaceState.Stopped, deleted.Detail, cancellationToken);
            return WorkspaceProblems.Unavailable(deleted);
        }

        await RemoveAsync((await FindAsync(ownerId, sid, cancellationToken))!, cancellationToken);
        return null;
    }

    /// <summary>
    /// Who may open <paramref name="port"/>: the row and the operator agree, or neither changes (the transaction
    /// commits only after the operator took the whole list). Only where workspaces have origins of their own
    /// (<paramref name="hostRouting"/>): a port is shared at its own address.
    /// </summary>
    public async Task<ProblemHttpResult?> SharePortAsync(long ownerId, string sid, int port, PortSharing sharing, bool hostRouting, CancellationToken cancellationToken)
    {
        var workspace = await db.Workspaces.Include(w => w.SharedPorts).SingleOrDefaultAsync(w => w.Sid == sid && w.OwnerId == ownerId, cancellationToken);
        if (workspace is null)
        {
            // Someone else's workspace and no workspace look the same, also where sharing is off.
            return WorkspaceProblems.NotYours(sid);
        }

        if (!hostRouting)
        {
            return Problems.Conflict("no_host_routing", "Ports can be shared only where workspaces have their own origins (WebApi:Tickets:WorkspaceDomain); ask your administrator.");
        }

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var row = workspace.SharedPorts.SingleOrDefault(p => p.Port == port);
        if (sharing == PortSharing.Private && row is not null)
        {
            workspace.SharedPorts.Remove(row);
            db.SharedPorts.Remove(row);
        }
        else if (sharing != PortSharing.Private && row is not null)
        {
            row.Sharing = sharing;
        }
        else if (sharing != PortSharing.Private)
        {
            if (workspace.SharedPorts.Count >= PortShares.MaxPorts)
            {
                return Problems.Unprocessable("too_many_shared_ports", $"At most {PortShares.MaxPorts} ports of a workspace can be shared; make one private first.");
            }

            workspace.SharedPorts.Add(new SharedPort { WorkspaceId = workspace.Id, Port = port, Sharing = sharing });
        }

        await db.SaveChangesAsync(cancellationToken);
        var told = await operatorApi.SetPortsAsync(sid, workspace.SharedPorts.Select(p => (p.Port, p.Sharing)), cancellationToken);
        if (!told.Succeeded)
        {
            return WorkspaceProblems.Unavailable(told);
        }

        await transaction.CommitAsync(cancellationToken);
        return null;
    }

    /// <summary>
    /// Running (or Starting) → Stopping in one statement, then the operator, then Stopped (or back to Running
    /// with the reason). Null when <paramref name="workspace"/> was not running: nothing was done.
    /// </summary>
    private async Task<OperatorOutcome?> StopAsync(IQueryable<Workspace> workspace, string sid, StopCause cause, CancellationToken cancellationToken)
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
            await MarkStoppedAsync(sid, cause, null, cancellationToken);
        }
        else
        {
            await SetStateAsync(sid, WorkspaceState.Running, stopped.Detail, cancellationToken);
        }

        return stopped;
    }

    private async Task<ProblemHttpResult> AnotherActiveAsync(Workspace workspace, CancellationToken cancellationToken)
    {
        var active = await db.Workspaces.AsNoTracking()
            .Where(w => w.OwnerId == workspace.OwnerId && Workspace.Active.Contains(w.State))
            .Select(w => w.Name)
            .FirstOrDefaultAsync(cancellationToken);
        return Problems.Conflict("another_running", $"'{active ?? "another workspace"}' is running; stop it first (one running workspace at a time).");
    }

    private async Task RemoveAsync(Workspace workspace, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var removed = await db.Workspaces.Where(w => w.Id == workspace.Id).ExecuteDeleteAsync(cancellationToken);
        await db.Users.Where(u => u.Id == workspace.OwnerId)
            .ExecuteUpdateAsync(u => u.SetProperty(x => x.WorkspaceCount, x => x.WorkspaceCount - removed), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>Stopped, and since when and why (null cause: it never got going); the start page says it.</summary>
    private Task<int> MarkStoppedAsync(string sid, StopCause? cause, string? error, CancellationToken cancellationToken) =>
        db.Workspaces.Where(w => w.Sid == sid)
            .ExecuteUpdateAsync(
                w => w.SetProperty(x => x.State, WorkspaceState.Stopped).SetProperty(x => x.LastError, error)
                    .SetProperty(x => x.StoppedAt, time.GetUtcNow()).SetProperty(x => x.StopCause, cause),
                cancellationToken);

    private Task<int> SetStateAsync(string sid, WorkspaceState state, string? error, CancellationToken cancellationToken) =>
        db.Workspaces.Where(w => w.Sid == sid)
            .ExecuteUpdateAsync(w => w.SetProperty(x => x.State, state).SetProperty(x => x.LastError, error), cancellationToken);
}
