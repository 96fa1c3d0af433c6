using System.Security.Claims;
using Contracts.Routing;
using Contracts.Sharing;
using Contracts.Workspaces;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using WebApi.Accounts;
using WebApi.Data;
using WebApi.Orchestration;
using WebApi.Tickets;

namespace WebApi.Workspaces;

public sealed record SharePortRequest(string? Sharing);

/// <summary>
/// Who may open a dev-server port of one's own workspace: <c>private</c> (the owner; the default),
/// <c>authenticated</c> (any signed-in user), <c>public</c> (anyone with the link). Kept here, and the
/// operator is told the whole list, from which the gateway follows within its propagation time.
/// </summary>
internal static class PortSharingEndpoints
{
    internal static async Task<Results<Ok<PortsView>, ProblemHttpResult>> List(
        string sid, ClaimsPrincipal user, WorkspaceLifecycle workspaces, OperatorClient operatorApi, TicketIssuer tickets, HttpContext http, CancellationToken cancellationToken)
    {
        if (await workspaces.FindAsync(user.UserId(), sid, cancellationToken) is not { } workspace)
        {
            return WorkspaceProblems.NotYours(sid);
        }

        // Only a running workspace has anything listening; the operator not answering hides none of the shares.
        var listening = workspace.State == WorkspaceState.Running ? await operatorApi.ListeningPortsAsync(sid, cancellationToken) : null;
        var heard = listening?.Ports ?? [];
        var shared = workspace.SharedPorts.ToDictionary(p => p.Port, p => p.Sharing);
        var ports = heard.Concat(shared.Keys).Distinct().Order()
            .Select(port => new PortView(
                port,
                PortShares.Word(shared.GetValueOrDefault(port, PortSharing.Private)),
                tickets.PortAddress(sid, port, http.Request.Scheme),
                heard.Contains(port)))
            .ToArray();
        return TypedResults.Ok(new PortsView(listening?.Detected ?? false, ports));
    }

    internal static async Task<Results<Ok<WorkspaceView>, ValidationProblem, ProblemHttpResult>> Set(
        string sid, string port, SharePortRequest request, ClaimsPrincipal user, WorkspaceLifecycle workspaces,
        TicketIssuer tickets, WorkspaceViews views, HttpContext http, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (!PortNumber.TryParse(port, out var number))
        {
            errors["port"] = ["a port number from 1 to 65535"];
        }

        if (!PortShares.TryParseLevel(request.Sharing, out var sharing))
        {
            errors["sharing"] = ["private, authenticated or public"];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "The sharing request is invalid");
        }

        if (await workspaces.SharePortAsync(user.UserId(), sid, number, sharing, tickets.HostRouting, cancellationToken) is { } problem)
        {
            return problem;
        }

        return await workspaces.FindAsync(user.UserId(), sid, cancellationToken) is { } changed
            ? TypedResults.Ok(views.For(changed, http.Request.Scheme))
            : WorkspaceProblems.NotYours(sid);
    }
}
