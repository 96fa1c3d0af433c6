using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Mvc;
using WebApi.Tests.Infrastructure;

namespace WebApi.Tests.Workspaces;

/// <summary>
/// Sharing a port needs workspaces on origins of their own (a port is shared at its own address): where the
/// platform has none, the owner is told why, and nobody else learns whether the workspace exists.
/// </summary>
public sealed class PortSharingWithoutOriginsTests(Platform platform) : IClassFixture<Platform>
{
    [Fact]
    public async Task Sharing_is_refused_with_the_reason_to_the_owner_and_as_not_found_to_anyone_else()
    {
        using var alice = await platform.NewUserAsync();
        using var mallory = await platform.NewUserAsync();
        var sid = await alice.StartedAsync("no origins");

        using var refused = await alice.PutAsJsonAsync($"/api/workspaces/{sid}/ports/3000", new { sharing = "public" });
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        var problem = (await refused.Content.ReadFromJsonAsync<ProblemDetails>())!;
        Assert.Equal("no_host_routing", problem.Title);
        Assert.Contains("WebApi:Tickets:WorkspaceDomain", problem.Detail, StringComparison.Ordinal);

        using var foreign = await mallory.PutAsJsonAsync($"/api/workspaces/{sid}/ports/3000", new { sharing = "public" });
        Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);

        // Nothing was shared on the way: the owner's list still says so.
        Assert.Empty((await alice.ViewAsync(sid))["ports"]!.AsArray());
    }
}
