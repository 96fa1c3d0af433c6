using Microsoft.AspNetCore.Http.HttpResults;
using WebApi.Orchestration;

namespace WebApi.Workspaces;

/// <summary>What a user is told when a workspace cannot do what was asked, the same wherever it was asked.</summary>
internal static class WorkspaceProblems
{
    // Someone else's workspace and no workspace look the same: sids are not probed this way.
    public static ProblemHttpResult NotYours(string sid) => Problems.NotFound($"You have no workspace '{sid}'.");

    public static ProblemHttpResult Busy(Workspace workspace) =>
        Problems.Conflict("busy", $"'{workspace.Name}' is {StateWord(workspace)}; try again in a moment.");

    public static ProblemHttpResult LimitReached() =>
        Problems.Unprocessable("workspace_limit", $"You have {Workspace.MaxPerUser} workspaces, the most allowed; delete one first.");

    /// <summary>The operator refused or could not be reached: 503 when that may pass, 502 otherwise.</summary>
    public static ProblemHttpResult Unavailable(OperatorOutcome outcome) =>
        Problems.Of(
            outcome.Status == System.Net.HttpStatusCode.ServiceUnavailable ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status502BadGateway,
            outcome.Reason.Length > 0 ? outcome.Reason : "operator_failed",
            outcome.Detail.Length > 0 ? outcome.Detail : "The workspace service could not do that; try again.");

    public static string StateWord(Workspace workspace) => workspace.State.ToString().ToLowerInvariant();
}
