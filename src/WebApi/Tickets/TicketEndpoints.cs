using System.Security.Claims;
using Contracts.Sharing;
using Microsoft.AspNetCore.Http.HttpResults;
using WebApi.Accounts;
using WebApi.Workspaces;

namespace WebApi.Tickets;

public sealed record TicketRequest(string? ReturnTo);

/// <summary>
/// A ticket for the address the gateway sent a browser away from (<c>returnTo</c>): the owner's for their
/// own workspace, a port ticket for a port its owner shared with signed-in users. Nothing else: a private
/// port, someone else's editor and an unknown workspace get the same 404.
/// </summary>
public static class TicketEndpoints
{
    public static IEndpointRouteBuilder MapTickets(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/tickets", Create).WithTags("Tickets").RequireAuthorization();
        return app;
    }

    internal static async Task<Results<Ok<OpenView>, ProblemHttpResult>> Create(
        TicketRequest request, ClaimsPrincipal user, WorkspaceLifecycle workspaces, TicketIssuer tickets, WorkspaceViews views, HttpContext http, CancellationToken cancellationToken)
    {
        var target = tickets.Read(request.ReturnTo, http.Request.Scheme);
        if (target is null)
        {
            return Problems.Of(StatusCodes.Status400BadRequest, "invalid_return_to", "That address is not a workspace of this platform.");
        }

        var userId = user.UserId();
        var workspace = await workspaces.FindAnyAsync(target.Sid, cancellationToken);
        if (workspace?.OwnerId == userId)
        {
            return WorkspaceEndpoints.OpenForOwner(workspace, target.Address, tickets, views);
        }

        if (workspace is not null && target.Port != 0
            && workspace.SharedPorts.Any(p => p.Port == target.Port && p.Sharing != PortSharing.Private))
        {
            return TypedResults.Ok(new OpenView(TicketIssuer.WithTicket(target.Address, tickets.Issue(target.Sid, userId, target.Port))));
        }

        // The same answer whether the workspace exists, is someone else's, or keeps that port private.
        return target.Port == 0
            ? WorkspaceProblems.NotYours(target.Sid)
            : Problems.NotFound("Nothing at that address is yours or shared with you.");
    }
}
