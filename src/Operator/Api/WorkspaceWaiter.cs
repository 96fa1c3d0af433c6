using Operator.Reconciliation;
using Operator.Workspaces;

namespace Operator.Api;

/// <summary>
/// Waits for a workspace to reach a state, woken by the informer's changes rather than by a fixed
/// sleep schedule (the old operator slept 1+3+5+8+12 s and gave up).
/// </summary>
internal sealed class WorkspaceWaiter(WorkspaceInformer informer, TimeProvider time)
{
    // Also re-check now and then: a change notification can race the check that precedes the wait.
    private static readonly TimeSpan Recheck = TimeSpan.FromSeconds(1);

    /// <summary>The cached workspace once <paramref name="done"/> says so; else the last one seen when the deadline passes.</summary>
    public async Task<(bool Done, WorkspaceResource? Last)> WaitAsync(string sid, Func<WorkspaceResource?, bool> done, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        while (true)
        {
            var next = informer.NextChange;
            var current = informer.Get(sid);
            if (done(current))
            {
                return (true, current);
            }

            var left = timeout - time.GetElapsedTime(started);
            if (left <= TimeSpan.Zero)
            {
                return (false, current);
            }

            try
            {
                await next.WaitAsync(left < Recheck ? left : Recheck, time, cancellationToken);
            }
            catch (TimeoutException)
            {
            }
        }
    }
}
