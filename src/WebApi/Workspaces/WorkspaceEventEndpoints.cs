using System.Runtime.CompilerServices;
using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using WebApi.Accounts;
using WebApi.Orchestration;

namespace WebApi.Workspaces;

/// <summary>
/// A workspace's view as server-sent events (<c>event: workspace</c>), one each time it changes: the start
/// page's live progress without polling. It wakes at each operator report and at least every
/// <see cref="Quiet"/> (a start or stop finishing is the database's news, not the operator's), and runs
/// until the client leaves. An unchanged view is sent again every <see cref="KeepAlive"/>, so no proxy on
/// the way (the gateway's own activity timeout is 100 s) cuts a page left open; a browser's EventSource
/// would reconnect by itself, but a page should not blink for it.
/// </summary>
public static class WorkspaceEventEndpoints
{
    private static readonly TimeSpan Quiet = TimeSpan.FromSeconds(2);

    private static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(30);

    internal static async Task<Results<ServerSentEventsResult<WorkspaceView>, ProblemHttpResult>> Events(
        string sid, ClaimsPrincipal user, WorkspaceLifecycle workspaces, WorkspaceViews views, OperatorStatus status, TimeProvider time, HttpContext http)
    {
        var ownerId = user.UserId();
        if (await workspaces.FindAsync(ownerId, sid) is null)
        {
            return WorkspaceProblems.NotYours(sid);
        }

        return TypedResults.ServerSentEvents(Follow(sid, ownerId, workspaces, views, status, time, http.Request.Scheme, http.RequestAborted), eventType: "workspace");
    }

    private static async IAsyncEnumerable<WorkspaceView> Follow(
        string sid, long ownerId, WorkspaceLifecycle workspaces, WorkspaceViews views, OperatorStatus status, TimeProvider time, string scheme, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string? last = null;
        var sentAt = time.GetTimestamp();
        while (!cancellationToken.IsCancellationRequested)
        {
            var next = status.NextAsync;
            if (await workspaces.FindAsync(ownerId, sid, cancellationToken) is not { } workspace)
            {
                // Deleted meanwhile: nothing more will come.
                yield break;
            }

            var view = views.For(workspace, scheme);
            var json = JsonSerializer.Serialize(view, JsonSerializerOptions.Web);
            if (json != last || time.GetElapsedTime(sentAt) >= KeepAlive)
            {
                last = json;
                sentAt = time.GetTimestamp();
                yield return view;
            }

            if (!await WaitAsync(next, time, cancellationToken))
            {
                yield break;
            }
        }
    }

    private static async Task<bool> WaitAsync(Task next, TimeProvider time, CancellationToken cancellationToken)
    {
        try
        {
            await next.WaitAsync(Quiet, time, cancellationToken);
        }
        catch (TimeoutException)
        {
        }
        catch (OperationCanceledException)
        {
            return false;
        }

        return true;
    }
}
