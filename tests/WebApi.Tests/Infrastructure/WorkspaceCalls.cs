using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace WebApi.Tests.Infrastructure;

/// <summary>The web API's workspace calls as a signed-in user's browser makes them.</summary>
public static class WorkspaceCalls
{
    /// <summary>Creates and starts a workspace; its sid once it runs.</summary>
    public static async Task<string> StartedAsync(this HttpClient user, string name)
    {
        using var created = await user.PostAsJsonAsync("/api/workspaces", new { name, template = "go", spec = "1C2G5G", start = true });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var workspace = (await created.Content.ReadFromJsonAsync<WorkspaceState>())!;
        Assert.Equal("Running", workspace.State);
        return workspace.Sid;
    }

    /// <summary>Creates a workspace without starting it; its sid.</summary>
    public static async Task<string> CreatedAsync(this HttpClient user, string name)
    {
        using var created = await user.PostAsJsonAsync("/api/workspaces", new { name, template = "go", spec = "1C2G5G" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return (await created.Content.ReadFromJsonAsync<JsonObject>())!["sid"]!.GetValue<string>();
    }

    /// <summary>The whole view of the workspace, as the page gets it.</summary>
    public static async Task<JsonObject> ViewAsync(this HttpClient user, string sid) =>
        (await user.GetFromJsonAsync<JsonObject>($"/api/workspaces/{sid}"))!;

    /// <summary>What the list says the workspace is doing (Running, Stopped, ...).</summary>
    public static async Task<string> StateAsync(this HttpClient user, string sid) =>
        (await user.GetFromJsonAsync<WorkspaceState>($"/api/workspaces/{sid}"))!.State;

    private sealed record WorkspaceState(string Sid, string State);
}
