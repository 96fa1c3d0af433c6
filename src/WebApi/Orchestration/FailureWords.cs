using Contracts.Workspaces;
namespace WebApi.Orchestration;

/// <summary>
/// The operator's reason for a workspace that will not run (a stable word from its drivers:
/// docs/operator.md), said to its owner with what to do about it; the operator's own sentence follows as detail.
/// </summary>
internal static class FailureWords
{
    public static string Describe(string? reason, string? detail)
    {
        var advice = reason switch
        {
            WorkspaceReasons.ResourcesExhausted => "There is no room for this workspace right now: try a smaller size, or again in a few minutes.",
            WorkspaceReasons.ImagePullFailed => "The workspace's image cannot be downloaded: its template may be broken. Tell your administrator.",
            WorkspaceReasons.EditorFailing => "The editor keeps failing to start. Stop the workspace and start it again; if that fails too, tell your administrator.",
            WorkspaceReasons.EditorNotAnswering => "The editor started but does not answer. Stop the workspace and start it again.",
            WorkspaceReasons.EditorMissing => "The editor is not installed on this machine (./run.sh installs it).",
            WorkspaceReasons.TimedOut => "The workspace did not finish starting in time. Try again; if it keeps happening, tell your administrator.",
            _ => null,
        };
        return (advice, string.IsNullOrWhiteSpace(detail)) switch
        {
            (null, true) => "The workspace could not be started.",
            (null, false) => detail!,
            (_, true) => advice,
            _ => $"{advice} ({detail})",
        };
    }
}
