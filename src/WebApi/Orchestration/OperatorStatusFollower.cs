using System.Collections.Frozen;
using Contracts.Workspaces;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using WebApi.Configuration;
using WebApi.Data;
using WebApi.Workspaces;

namespace WebApi.Orchestration;

/// <summary>
/// Keeps the page truthful: asks the operator what every workspace is doing every
/// <see cref="OperatorApiOptions.StatusInterval"/>, publishes it (<see cref="OperatorStatus"/>) for views and
/// progress streams, and settles the rows whose state changed outside this web API — a workspace stopped by
/// an administrator or by the operator is Stopped here too, so it no longer holds the one-running slot.
/// Polling, not watching: the operator's list is served from its informer's memory, and a poll survives
/// either side restarting without resynchronisation logic.
/// </summary>
internal sealed partial class OperatorStatusFollower(
    IServiceScopeFactory scopes,
    OperatorStatus status,
    IOptions<WebApiOptions> options,
    TimeProvider time,
    ILogger<OperatorStatusFollower> logger) : BackgroundService
{
    private readonly TimeSpan _interval = options.Value.Operator.StatusInterval;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await FollowOnceAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The next round tries again; an exception escaping would stop the web API.
                LogRoundFailed(ex);
            }

            await Task.Delay(_interval, time, stoppingToken);
        }
    }

    internal async Task FollowOnceAsync(CancellationToken cancellationToken)
    {
        // Taken before asking: what the answer says is at least this fresh, never fresher.
        var asked = time.GetUtcNow();
        await using var scope = scopes.CreateAsyncScope();
        var workspaces = await scope.ServiceProvider.GetRequiredService<OperatorClient>().ListAsync(cancellationToken);
        if (workspaces is null)
        {
            if (status.Current.Known)
            {
                LogOperatorLost();
                status.Publish(OperatorSnapshot.Unknown);
            }

            return;
        }

        var snapshot = new OperatorSnapshot(workspaces.ToFrozenDictionary(w => w.Sid, StringComparer.Ordinal), asked, known: true);
        status.Publish(snapshot);
        await SettleAsync(scope.ServiceProvider.GetRequiredService<WebApiDb>(), snapshot, cancellationToken);
    }

    private async Task SettleAsync(WebApiDb db, OperatorSnapshot snapshot, CancellationToken cancellationToken)
    {
        var active = await db.Workspaces.AsNoTracking()
            .Where(w => Workspace.Active.Contains(w.State))
            .Select(w => new { w.Id, w.Sid, w.State, w.StartedAt })
            .ToListAsync(cancellationToken);
        var now = time.GetUtcNow();
        foreach (var row in active)
        {
            if (snapshot.Get(row.Sid) is not { } seen)
            {
                continue;
            }

            var stopped = seen.DesiredState == nameof(WorkspaceState.Stopped) && seen.Phase == WorkspacePhase.Stopped;
            if (row.State == WorkspaceState.Running && row.StartedAt < snapshot.At && seen.DesiredState == nameof(WorkspaceState.Stopped))
            {
                // Stopped behind our back. Only a start that finished before the operator was asked counts (a
                // list taken just before a start must not stop it), and each UPDATE is conditional on the
                // state read, so a Stop or Start request that got there first wins.
                if (await db.Workspaces.Where(w => w.Id == row.Id && w.State == WorkspaceState.Running)
                        .ExecuteUpdateAsync(w => w.SetProperty(x => x.State, WorkspaceState.Stopped).SetProperty(x => x.StoppedAt, now).SetProperty(x => x.StopCause, StopCause.Operator), cancellationToken) > 0)
                {
                    LogStoppedElsewhere(row.Sid, seen.Phase);
                }
            }
            else if (row.State == WorkspaceState.Stopping && stopped)
            {
                // A stop whose request was lost (the web API restarted during it); a live request settles the
                // cause itself afterwards.
                await db.Workspaces.Where(w => w.Id == row.Id && w.State == WorkspaceState.Stopping)
                    .ExecuteUpdateAsync(w => w.SetProperty(x => x.State, WorkspaceState.Stopped).SetProperty(x => x.StoppedAt, now), cancellationToken);
            }
            else if (row.State == WorkspaceState.Starting && seen.Phase == WorkspacePhase.Running && seen.Ready)
            {
                await db.Workspaces.Where(w => w.Id == row.Id && w.State == WorkspaceState.Starting)
                    .ExecuteUpdateAsync(w => w.SetProperty(x => x.State, WorkspaceState.Running).SetProperty(x => x.StartedAt, now), cancellationToken);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Workspace {Sid} was stopped outside the web API (operator phase {Phase}); shown as Stopped")]
    private partial void LogStoppedElsewhere(string sid, string phase);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The operator cannot say what workspaces are doing; the page shows the database's state until it can")]
    private partial void LogOperatorLost();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Following the operator's status failed; trying again next round")]
    private partial void LogRoundFailed(Exception exception);
}
