using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.ServerSentEvents;
using System.Text.Json.Nodes;
using WebApi.Tests.Infrastructure;

namespace WebApi.Tests.Workspaces;

/// <summary>
/// The page never lies: what the web API shows follows what the operator reports (here with its local
/// driver and stand-in editors), including changes nobody made through the web API, and a start can be
/// watched step by step.
/// </summary>
public sealed class WorkspaceTruthTests(Platform platform) : IClassFixture<Platform>
{
    [Fact]
    public async Task A_workspace_stopped_past_the_web_API_shows_Stopped_and_frees_the_running_slot()
    {
        using var user = await platform.NewUserAsync();
        var first = await user.StartedAsync("first");

        // An administrator stops it with the operator's own API.
        using var admin = new HttpClient { BaseAddress = platform.OperatorAddress, Timeout = TimeSpan.FromSeconds(60) };
        using var stopped = await admin.PostAsync($"/api/workspaces/{first}/stop?wait=30", null);
        Assert.Equal(HttpStatusCode.OK, stopped.StatusCode);

        await Eventually.TrueAsync(async () => await user.StateAsync(first) == "Stopped", "the page shows it stopped", TimeSpan.FromSeconds(10));
        var view = await user.ViewAsync(first);
        Assert.Equal("operator", view["stopCause"]!.GetValue<string>());
        Assert.NotNull(view["stoppedAt"]);

        // It no longer counts as the one running workspace.
        var second = await user.StartedAsync("second");
        Assert.Equal("Running", await user.StateAsync(second));
    }

    [Fact]
    public async Task An_editor_that_keeps_failing_shows_Failed_in_words_cannot_be_opened_and_recovers_after_stop_and_start()
    {
        using var user = await platform.NewUserAsync();
        var sid = await user.StartedAsync("flaky");
        var marker = Path.Combine(platform.WorkspacesDirectory, sid, ".code-server", "data", "fail-to-start");
        await File.WriteAllTextAsync(marker, "");

        // The editor dies; every restart fails from now on.
        var pid = int.Parse(await File.ReadAllTextAsync(Path.Combine(platform.WorkspacesDirectory, ".editors", sid + ".pid")), System.Globalization.CultureInfo.InvariantCulture);
        using (var editor = Process.GetProcessById(pid))
        {
            editor.Kill();
        }

        await Eventually.TrueAsync(async () => await user.StateAsync(sid) != "Running", "the page stops calling it Running", TimeSpan.FromSeconds(10));
        await Eventually.TrueAsync(async () => await user.StateAsync(sid) == "Failed", "the page shows it failed", TimeSpan.FromSeconds(30));
        var view = await user.ViewAsync(sid);
        Assert.Contains("keeps failing", view["lastError"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("Stop the workspace and start it again", view["lastError"]!.GetValue<string>(), StringComparison.Ordinal);

        // No ticket for an editor that is not there: the browser would only bounce back.
        using var open = await user.PostAsync($"/api/workspaces/{sid}/open", null);
        Assert.Equal(HttpStatusCode.Conflict, open.StatusCode);
        using var ticket = await user.PostAsJsonAsync("/api/tickets", new { returnTo = $"/ws/{sid}/" });
        Assert.Equal(HttpStatusCode.Conflict, ticket.StatusCode);

        using var stop = await user.PostAsync($"/api/workspaces/{sid}/stop", null);
        Assert.Equal(HttpStatusCode.OK, stop.StatusCode);
        File.Delete(marker);
        using var start = await user.PostAsync($"/api/workspaces/{sid}/start", null);
        Assert.Equal(HttpStatusCode.OK, start.StatusCode);
        Assert.Equal("Running", (await start.Content.ReadFromJsonAsync<JsonObject>())!["state"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_progress_stream_shows_the_operators_steps_until_the_editor_runs()
    {
        using var user = await platform.NewUserAsync();
        var sid = await user.CreatedAsync("watched");

        // An editor that takes two seconds to answer, as code-server does.
        var userData = Directory.CreateDirectory(Path.Combine(platform.WorkspacesDirectory, sid, ".code-server", "data"));
        await File.WriteAllTextAsync(Path.Combine(userData.FullName, "start-delay-ms"), "2000");

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var stream = await user.GetAsync($"/api/workspaces/{sid}/events", HttpCompletionOption.ResponseHeadersRead, deadline.Token);
        Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
        Assert.Equal("text/event-stream", stream.Content.Headers.ContentType!.MediaType);

        var seen = new List<(string State, string? Reason)>();
        Task<HttpResponseMessage>? starting = null;
        await foreach (var item in SseParser.Create(await stream.Content.ReadAsStreamAsync(deadline.Token)).EnumerateAsync(deadline.Token))
        {
            Assert.Equal("workspace", item.EventType);
            var view = JsonNode.Parse(item.Data)!.AsObject();
            var state = view["state"]!.GetValue<string>();
            seen.Add((state, view["progress"]?["reason"]?.GetValue<string>()));

            // The first event is where things stand; only then is Start pressed.
            starting ??= user.PostAsync($"/api/workspaces/{sid}/start", null, deadline.Token);
            if (state == "Running")
            {
                break;
            }
        }

        using var started = await starting!;
        Assert.Equal(HttpStatusCode.OK, started.StatusCode);
        Assert.Equal("Stopped", seen[0].State);
        Assert.Contains(seen, step => step is ("Starting", "EditorStarting" or "Probing"));
        Assert.Equal("Running", seen[^1].State);
        Assert.True(seen.Count == seen.Distinct().Count(), "an event only when something changed: " + string.Join(", ", seen));
    }

    [Fact]
    public async Task The_start_page_knows_the_owners_stopped_workspace_and_nobody_else_learns_anything()
    {
        using var owner = await platform.NewUserAsync();
        var sid = await owner.StartedAsync("bookmarked");
        using var stop = await owner.PostAsync($"/api/workspaces/{sid}/stop", null);
        var view = (await stop.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal("Stopped", view["state"]!.GetValue<string>());
        Assert.Equal("owner", view["stopCause"]!.GetValue<string>());

        // Where the gateway sends the owner's browser: the address it asked for, to be started.
        using var ownerTicket = await owner.PostAsJsonAsync("/api/tickets", new { returnTo = $"/ws/{sid}/src/main.go" });
        Assert.Equal(HttpStatusCode.Conflict, ownerTicket.StatusCode);
        var problem = (await ownerTicket.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal("not_running", problem["title"]!.GetValue<string>());
        Assert.Equal(sid, problem["sid"]!.GetValue<string>());

        // Another user, and an unknown workspace, get the same answer; a stranger is asked to log in.
        using var other = await platform.NewUserAsync();
        using var othersTicket = await other.PostAsJsonAsync("/api/tickets", new { returnTo = $"/ws/{sid}/src/main.go" });
        using var unknownTicket = await other.PostAsJsonAsync("/api/tickets", new { returnTo = "/ws/ws-aaaaaaaaaaaa/src/main.go" });
        Assert.Equal(HttpStatusCode.NotFound, othersTicket.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknownTicket.StatusCode);
        Assert.Equal(
            (await othersTicket.Content.ReadFromJsonAsync<JsonObject>())!["title"]!.GetValue<string>(),
            (await unknownTicket.Content.ReadFromJsonAsync<JsonObject>())!["title"]!.GetValue<string>());
        using var othersEvents = await other.GetAsync($"/api/workspaces/{sid}/events", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.NotFound, othersEvents.StatusCode);
        using var stranger = platform.NewClient();
        using var strangersTicket = await stranger.PostAsJsonAsync("/api/tickets", new { returnTo = $"/ws/{sid}/" });
        Assert.Equal(HttpStatusCode.Unauthorized, strangersTicket.StatusCode);
    }
}
