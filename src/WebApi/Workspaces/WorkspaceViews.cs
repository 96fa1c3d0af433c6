using Contracts.Sharing;
using Contracts.Workspaces;
using Microsoft.Extensions.Options;
using WebApi.Configuration;
using WebApi.Orchestration;
using WebApi.Tickets;

namespace WebApi.Workspaces;

public sealed record WorkspaceView(
    string Sid,
    string Name,
    string State,
    string Template,
    string Spec,
    string TemplateName,
    string SpecName,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? StoppedAt,
    string? StopCause,
    DateTimeOffset? LastUsedAt,
    DateTimeOffset? IdleStopAt,
    string? LastError,
    ProgressView? Progress,
    SharedPortView[] Ports,
    bool PortsShareable);

/// <summary>Where a start or stop is, as the operator reports it: its phase and the driver's reason and sentence.</summary>
/// <summary>The operator's word for what a workspace is doing, its sentence, and which step of a start that is (0 to 3).</summary>
public sealed record ProgressView(string Phase, string? Reason, string? Message)
{
    public int Step => WorkspaceReasons.StepOf(Reason);
}

/// <summary>A shared dev-server port and where it opens (null without host-based routing).</summary>
public sealed record SharedPortView(int Port, string Sharing, string? Url);

/// <summary>
/// A workspace's dev-server ports for its owner: those listening now (<see cref="Detected"/> when the platform
/// can tell) and those shared, each with its level (private unless shared) and where it opens.
/// </summary>
public sealed record PortsView(bool Detected, PortView[] Ports);

public sealed record PortView(int Port, string Sharing, string? Url, bool Listening);

/// <summary>
/// A workspace as its owner sees it: the database's state (what this web API decided) corrected by what the
/// operator last reported (what is), so a Running row whose editor keeps failing shows Failed, one whose
/// editor restarts shows Starting, and neither offers Open.
/// </summary>
internal sealed class WorkspaceViews(TicketIssuer tickets, OperatorStatus status, WorkspaceActivity activity, IOptions<WebApiOptions> options)
{
    /// <summary>Shown while the operator has not yet reported on a start this web API asked for.</summary>
    private static readonly ProgressView Requested = new(WorkspacePhase.Pending, WorkspaceReasons.Requested, "asking for the workspace to start");

    private readonly IdleStopOptions _idle = options.Value.IdleStop;

    public WorkspaceView For(Workspace w, string scheme)
    {
        var seen = Seen(w);
        var (state, progress) = Shown(w.State, seen);
        var lastError = state == "Failed" ? FailureWords.Describe(seen!.Reason, seen.Message) : w.LastError;
        var lastUsed = activity.LastUsed(w.Sid);
        DateTimeOffset? idleStopAt = null;
        if (_idle.Enabled && state == nameof(WorkspaceState.Running) && w.StartedAt is { } started)
        {
            idleStopAt = (lastUsed > started ? lastUsed.Value : started) + _idle.IdleTimeout;
        }

        return new(
            w.Sid,
            w.Name,
            state,
            w.Template?.Key ?? "",
            w.Spec?.Key ?? "",
            w.Template?.Name ?? "",
            w.Spec?.DisplayName ?? "",
            w.CreatedAt,
            w.StartedAt,
            w.State == WorkspaceState.Stopped ? w.StoppedAt : null,
            w.State == WorkspaceState.Stopped ? w.StopCause?.ToString().ToLowerInvariant() : null,
            lastUsed,
            idleStopAt,
            lastError,
            progress,
            [.. w.SharedPorts.OrderBy(p => p.Port).Select(p => new SharedPortView(p.Port, PortShares.Word(p.Sharing), tickets.PortAddress(w.Sid, p.Port, scheme)))],
            tickets.HostRouting);
    }

    /// <summary>Whether the editor can be opened now: running as far as anyone knows.</summary>
    public bool IsOpenable(Workspace w) => Shown(w.State, Seen(w)).State == nameof(WorkspaceState.Running);

    /// <summary>
    /// The operator's word on <paramref name="w"/>, unless it predates the row's last start: a start this
    /// web API saw finish is newer news than a report taken while it was still under way.
    /// </summary>
    private WorkspaceInfo? Seen(Workspace w)
    {
        var snapshot = status.Current;
        return w.State == WorkspaceState.Running && !(w.StartedAt < snapshot.At) ? null : snapshot.Get(w.Sid);
    }

    private static (string State, ProgressView? Progress) Shown(WorkspaceState state, WorkspaceInfo? seen)
    {
        var reported = seen is null ? null : new ProgressView(seen.Phase, seen.Reason, seen.Message);
        return state switch
        {
            WorkspaceState.Starting => ("Starting", seen is { Phase: WorkspacePhase.Pending or WorkspacePhase.Starting or WorkspacePhase.Failed } || seen is { Phase: WorkspacePhase.Running, Ready: true } ? reported : Requested),
            WorkspaceState.Stopping => ("Stopping", seen is { Phase: WorkspacePhase.Stopping or WorkspacePhase.Stopped } ? reported : null),
            WorkspaceState.Running => seen?.Phase switch
            {
                null or WorkspacePhase.Running when seen?.Ready != false => ("Running", null),
                WorkspacePhase.Failed => ("Failed", reported),
                WorkspacePhase.Stopping or WorkspacePhase.Stopped => ("Stopping", reported),
                _ => ("Starting", reported),
            },
            _ => (state.ToString(), null),
        };
    }
}
