using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Mvc;
using WebApi.Tests.Infrastructure;

namespace WebApi.Tests.Workspaces;

/// <summary>The old platform's rules, each with its own answer, including when requests race; on SQLite and PostgreSQL.</summary>
public abstract class WorkspaceRuleTests<TPlatform>(TPlatform platform) : IClassFixture<TPlatform>
    where TPlatform : Platform
{
    [Fact]
    public async Task The_web_API_runs_on_the_database_this_suite_is_for()
    {
        await using var scope = platform.Services.CreateAsyncScope();
        Assert.IsType(platform.DatabaseType, scope.ServiceProvider.GetRequiredService<WebApi.Data.WebApiDb>());
    }

    [Fact]
    public async Task Create_start_open_stop_delete_through_the_operator_and_the_gateway()
    {
        using var alice = await platform.NewUserAsync();
        using var created = await CreateAsync(alice, "my project");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var workspace = (await created.Content.ReadFromJsonAsync<WorkspaceDto>())!;
        Assert.Equal("Stopped", workspace.State);
        Assert.Matches("^ws-[a-z2-7]{12}$", workspace.Sid);

        using var notRunning = await alice.PostAsync($"/api/workspaces/{workspace.Sid}/open", null);
        Assert.Equal(HttpStatusCode.Conflict, notRunning.StatusCode);

        using var started = await alice.PostAsync($"/api/workspaces/{workspace.Sid}/start", null);
        Assert.Equal(HttpStatusCode.OK, started.StatusCode);
        Assert.Equal("Running", (await started.Content.ReadFromJsonAsync<WorkspaceDto>())!.State);

        // The URL carries a ticket the gateway accepts for this workspace: it answers with its session.
        var open = (await (await alice.PostAsync($"/api/workspaces/{workspace.Sid}/open", null)).Content.ReadFromJsonAsync<OpenDto>())!;
        Assert.StartsWith($"{platform.Gateway.Address.ToString().TrimEnd('/')}/ws/{workspace.Sid}/?ticket=", open.Url, StringComparison.Ordinal);
        using var viaGateway = await platform.Gateway.Client.GetAsync(open.Url);
        Assert.Equal(HttpStatusCode.SeeOther, viaGateway.StatusCode);
        var session = viaGateway.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("gw_session=", StringComparison.Ordinal)).Split(';')[0];

        // The editor's page with that session: the platform's script in it has the workspace's name for its welcome.
        using (var pageRequest = new HttpRequestMessage(HttpMethod.Get, new Uri(platform.Gateway.Address, viaGateway.Headers.Location!)))
        {
            pageRequest.Headers.Add("Cookie", session);
            pageRequest.Headers.Add("Accept", "text/html");
            using var page = await platform.Gateway.Client.SendAsync(pageRequest);
            Assert.Contains("data-workspace-name=\"my project\"", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using var runningDelete = await alice.DeleteAsync($"/api/workspaces/{workspace.Sid}");
        Assert.Equal(HttpStatusCode.Conflict, runningDelete.StatusCode);
        Assert.Equal("running", (await runningDelete.Content.ReadFromJsonAsync<ProblemDetails>())!.Title);

        using var stopped = await alice.PostAsync($"/api/workspaces/{workspace.Sid}/stop", null);
        Assert.Equal("Stopped", (await stopped.Content.ReadFromJsonAsync<WorkspaceDto>())!.State);
        using var deleted = await alice.DeleteAsync($"/api/workspaces/{workspace.Sid}");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Empty((await alice.GetFromJsonAsync<List<WorkspaceDto>>("/api/workspaces"))!);
    }

    [Fact]
    public async Task Another_users_workspace_cannot_be_seen_started_or_opened()
    {
        using var owner = await platform.NewUserAsync();
        using var stranger = await platform.NewUserAsync();
        var sid = (await (await CreateAsync(owner, "private")).Content.ReadFromJsonAsync<WorkspaceDto>())!.Sid;

        foreach (var response in new[]
        {
            await stranger.GetAsync($"/api/workspaces/{sid}"),
            await stranger.PostAsync($"/api/workspaces/{sid}/start", null),
            await stranger.PostAsync($"/api/workspaces/{sid}/open", null),
            await stranger.DeleteAsync($"/api/workspaces/{sid}"),
        })
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            response.Dispose();
        }

        using var anonymous = platform.NewClient();
        using var unauthenticated = await anonymous.GetAsync("/api/workspaces");
        Assert.Equal(HttpStatusCode.Unauthorized, unauthenticated.StatusCode);
    }

    [Fact]
    public async Task Names_are_unique_per_user_not_across_users()
    {
        using var first = await platform.NewUserAsync();
        using var second = await platform.NewUserAsync();
        Assert.Equal(HttpStatusCode.Created, (await CreateAsync(first, "blog")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await CreateAsync(second, "blog")).StatusCode);

        using var again = await CreateAsync(first, "blog");
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal("name_taken", (await again.Content.ReadFromJsonAsync<ProblemDetails>())!.Title);
    }

    [Fact]
    public async Task Twenty_workspaces_at_most_even_when_the_last_ones_are_created_at_the_same_moment()
    {
        using var user = await platform.NewUserAsync();
        for (var i = 0; i < 17; i++)
        {
            Assert.Equal(HttpStatusCode.Created, (await CreateAsync(user, $"w{i}")).StatusCode);
        }

        // 8 creates race for the last 3 slots.
        var racing = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => CreateAsync(user, $"race{i}")));
        Assert.Equal(3, racing.Count(r => r.StatusCode == HttpStatusCode.Created));
        Assert.Equal(5, racing.Count(r => r.StatusCode == HttpStatusCode.UnprocessableEntity));
        var problem = await racing.First(r => r.StatusCode == HttpStatusCode.UnprocessableEntity).Content.ReadFromJsonAsync<ProblemDetails>();
        Assert.Equal("workspace_limit", problem!.Title);
        Assert.Equal(20, (await user.GetFromJsonAsync<List<WorkspaceDto>>("/api/workspaces"))!.Count);
    }

    [Fact]
    public async Task One_running_workspace_per_user_even_when_two_starts_race()
    {
        using var user = await platform.NewUserAsync();
        var a = (await (await CreateAsync(user, "a")).Content.ReadFromJsonAsync<WorkspaceDto>())!.Sid;
        var b = (await (await CreateAsync(user, "b")).Content.ReadFromJsonAsync<WorkspaceDto>())!.Sid;

        var starts = await Task.WhenAll(user.PostAsync($"/api/workspaces/{a}/start", null), user.PostAsync($"/api/workspaces/{b}/start", null));
        Assert.Single(starts, s => s.StatusCode == HttpStatusCode.OK);
        var refused = starts.Single(s => s.StatusCode != HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Equal("another_running", (await refused.Content.ReadFromJsonAsync<ProblemDetails>())!.Title);

        var states = (await user.GetFromJsonAsync<List<WorkspaceDto>>("/api/workspaces"))!.Select(w => w.State).Order();
        Assert.Equal(["Running", "Stopped"], states);

        // The rule is per user: someone else starts theirs meanwhile.
        using var other = await platform.NewUserAsync();
        using var otherCreated = await CreateAsync(other, "theirs", start: true);
        Assert.Equal(HttpStatusCode.Created, otherCreated.StatusCode);
        Assert.Equal("Running", (await otherCreated.Content.ReadFromJsonAsync<WorkspaceDto>())!.State);
    }

    [Fact]
    public async Task Unknown_template_or_spec_and_bad_names_are_rejected_before_anything_is_made()
    {
        using var user = await platform.NewUserAsync();
        using var response = await user.PostAsJsonAsync("/api/workspaces", new { name = "", template = "cobol", spec = "96C1T" });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<ValidationProblemDetails>();
        Assert.Equal(["name", "spec", "template"], problem!.Errors.Keys.Order());
        Assert.Empty((await user.GetFromJsonAsync<List<WorkspaceDto>>("/api/workspaces"))!);
    }

    private static Task<HttpResponseMessage> CreateAsync(HttpClient client, string name, bool start = false) =>
        client.PostAsJsonAsync("/api/workspaces", new { name, template = "go", spec = "2C4G10G", start });

    private sealed record WorkspaceDto(string Sid, string Name, string State, string Template, string Spec, string? LastError);

    private sealed record OpenDto(string Url);
}

public sealed class SqliteWorkspaceRuleTests(Platform platform) : WorkspaceRuleTests<Platform>(platform);

public sealed class PostgresWorkspaceRuleTests(PostgresPlatform platform) : WorkspaceRuleTests<PostgresPlatform>(platform);
