using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Mvc;
using Operator.Tests.Infrastructure;

namespace Operator.Tests.Drivers.Local;

/// <summary>
/// The one-machine platform: the operator's local driver runs each workspace as a real process (a
/// stand-in for code-server with its command line, /healthz, files in its folder and a child process),
/// publishes routes to a real Redis, and a real gateway reaches the editor through them.
/// </summary>
public sealed class LocalDriverTests : IAsyncLifetime
{
    private static readonly string FakeCodeServer = Path.Combine(AppContext.BaseDirectory, "FakeCodeServer");

    private readonly RedisServer _redis = new();
    private readonly DirectoryInfo _data = Directory.CreateTempSubdirectory("operator-local");
    private OperatorHost? _operator;
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        await _redis.InitializeAsync();
        _gateway = await GatewayHost.StartAsync(_redis);
        _operator = await StartOperatorAsync();
    }

    public async Task DisposeAsync()
    {
        if (_operator is not null)
        {
            await _operator.DisposeAsync();
        }

        await _gateway.DisposeAsync();
        await _redis.DisposeAsync();
        _data.Delete(recursive: true);
    }

    [Fact]
    public async Task A_started_workspace_is_reachable_through_the_gateway_and_its_data_survives_stop_and_start()
    {
        using var created = await _operator!.CreateAsync("local-a");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var info = await OperatorHost.InfoAsync(created);
        Assert.True(info.Ready);
        Assert.StartsWith("127.0.0.1:", info.Address, StringComparison.Ordinal);
        using (var redis = _redis.Connect())
        {
            Assert.Equal(info.Address, await redis.ExecuteAsync("HGET", "hosts", "local-a"));
        }

        // Through the gateway: the editor opened the workspace's own folder; a file written there...
        Assert.Equal(Path.Combine(_data.FullName, "local-a", "workspace"), await _gateway.Client.GetStringAsync("/ws/local-a/whoami"));
        using (var put = await _gateway.Client.PutAsync("/ws/local-a/files/notes.txt", new StringContent("remember me")))
        {
            Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        }

        var editorPid = EditorPid("local-a");
        var childPid = ChildPid("local-a");
        using var stopped = await _operator.StopWorkspaceAsync("local-a");
        Assert.Equal(HttpStatusCode.OK, stopped.StatusCode);
        Assert.Equal("Stopped", (await OperatorHost.InfoAsync(stopped)).Phase);

        // ...the route is gone (the gateway says so at once), and so is the editor with everything it spawned...
        using (var gone = await _gateway.Client.GetAsync("/ws/local-a/whoami"))
        {
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }

        Assert.False(Exists(editorPid), "the editor process is gone");
        Assert.False(Exists(childPid), "the editor's child process is gone");

        // ...and after a start, the file is still there.
        using var started = await _operator.StartWorkspaceAsync("local-a");
        Assert.Equal(HttpStatusCode.OK, started.StatusCode);

        // The route's notice reaches the gateway a moment after the start returns (pub/sub), and the "not running"
        // it answered just before is remembered until then: asked again until served (once seen 404 in CI).
        var notes = "";
        await Eventually.TrueAsync(
            async () =>
            {
                using var response = await _gateway.Client.GetAsync("/ws/local-a/files/notes.txt");
                notes = response.IsSuccessStatusCode ? await response.Content.ReadAsStringAsync() : "";
                return response.IsSuccessStatusCode;
            },
            "the restarted workspace is served through the gateway",
            TimeSpan.FromSeconds(5));
        Assert.Equal("remember me", notes);
    }

    [Fact]
    public async Task The_editor_does_not_inherit_the_operators_settings()
    {
        // run.sh gives the operator its API token as Operator__Api__Token; a workspace's terminals run with
        // the editor's environment, so its user would read it with `env`.
        Environment.SetEnvironmentVariable("Operator__Probe__Secret", "not for the editor");
        using var created = await _operator!.CreateAsync("local-env");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        using var secret = await _gateway.Client.GetAsync("/ws/local-env/env/Operator__Probe__Secret");
        Assert.Equal(HttpStatusCode.NotFound, secret.StatusCode);
        Assert.Equal(Environment.GetEnvironmentVariable("PATH"), await _gateway.Client.GetStringAsync("/ws/local-env/env/PATH"));
    }

    [Fact]
    public async Task Deleting_a_workspace_removes_its_editor_route_and_data()
    {
        using var created = await _operator!.CreateAsync("local-b");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var editorPid = EditorPid("local-b");

        using var running = await _operator.DeleteWorkspaceAsync("local-b");
        Assert.Equal(HttpStatusCode.NoContent, running.StatusCode);

        Assert.False(Directory.Exists(Path.Combine(_data.FullName, "local-b")));
        Assert.False(Exists(editorPid));
        using var redis = _redis.Connect();
        Assert.Null(await redis.ExecuteAsync("HGET", "hosts", "local-b"));
        using var list = await _operator.Client.GetAsync("/api/workspaces/local-b");
        Assert.Equal(HttpStatusCode.NotFound, list.StatusCode);
    }

    [Fact]
    public async Task An_editor_that_dies_is_started_again_and_its_route_follows()
    {
        using var created = await _operator!.CreateAsync("local-c");
        var before = (await OperatorHost.InfoAsync(created)).Address;
        var editorPid = EditorPid("local-c");
        var childPid = ChildPid("local-c");

        // The editor alone dies (a crash); what it spawned is still there.
        using (var kill = System.Diagnostics.Process.Start("kill", ["-KILL", editorPid.ToString(CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        await Eventually.TrueAsync(
            async () => TryEditorPid("local-c") is { } pid && pid != editorPid && (await _gateway.Client.GetAsync("/ws/local-c/healthz")).IsSuccessStatusCode,
            "a new editor answers through the gateway",
            TimeSpan.FromSeconds(20));
        using var redis = _redis.Connect();
        Assert.NotEqual(before, await redis.ExecuteAsync("HGET", "hosts", "local-c"));
        Assert.False(Exists(childPid), "the crashed editor's children were ended with it");
    }

    [Fact]
    public async Task Editors_stop_with_the_operator_and_come_back_with_their_data_when_it_starts_again()
    {
        using var created = await _operator!.CreateAsync("local-d");
        using (await _gateway.Client.PutAsync("/ws/local-d/files/kept.txt", new StringContent("still here")))
        {
        }

        var editorPid = EditorPid("local-d");
        await _operator.DisposeAsync();
        _operator = null;

        Assert.False(Exists(editorPid));
        using (var redis = _redis.Connect())
        {
            Assert.Null(await redis.ExecuteAsync("HGET", "hosts", "local-d"));
        }

        // The Workspace list is kept in the data directory: it is still meant to run, so it runs.
        _operator = await StartOperatorAsync();
        await Eventually.TrueAsync(
            async () => (await _gateway.Client.GetAsync("/ws/local-d/files/kept.txt")).IsSuccessStatusCode,
            "the workspace is back behind the gateway",
            TimeSpan.FromSeconds(20));
        Assert.Equal("still here", await _gateway.Client.GetStringAsync("/ws/local-d/files/kept.txt"));
    }

    [Fact]
    public async Task Without_code_server_a_start_fails_at_once_and_says_how_to_get_it()
    {
        await _operator!.DisposeAsync();
        _operator = await StartOperatorAsync(codeServer: Path.Combine(_data.FullName, "no-such-code-server"));

        using var response = await _operator.CreateAsync("local-e", wait: 60);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<ProblemDetails>();
        Assert.Equal("EditorMissing", problem!.Title);
        Assert.Contains("code-server is not installed", problem.Detail, StringComparison.Ordinal);
        Assert.Contains("run.sh", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task An_editor_that_exits_at_once_is_restarted_with_backoff_and_reported_failing_after_three_exits()
    {
        // An "editor" that exits with code 3 at once, noting each start.
        var starts = Path.Combine(_data.FullName, "crashing-starts.txt");
        var crashing = Path.Combine(_data.FullName, "crashing-code-server");
        await File.WriteAllTextAsync(crashing, $"#!/bin/sh\necho started >> '{starts}'\nexit 3\n");
        File.SetUnixFileMode(crashing, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        await _operator!.DisposeAsync();
        _operator = await StartOperatorAsync(codeServer: crashing);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var response = await _operator.CreateAsync("local-f", wait: 20);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<ProblemDetails>();
        Assert.Equal("EditorFailing", problem!.Title);
        Assert.Contains("exit code 3", problem.Detail, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"reported after {clock.Elapsed}");
        Assert.Equal(3, File.ReadAllLines(starts).Length);

        // Still failing, it is tried again, ever more slowly: a few more starts, not thousands.
        await Task.Delay(TimeSpan.FromSeconds(5));
        Assert.InRange(File.ReadAllLines(starts).Length, 3, 5);
    }

    [Fact]
    public async Task Stopping_a_workspace_ends_what_its_user_moved_into_a_session_of_its_own()
    {
        Assert.True(Environment.IsPrivilegedProcess, "these tests run as root (CI does): only root makes a cgroup per workspace here");
        var userData = Path.Combine(_data.FullName, "local-d", ".code-server", "data");
        Directory.CreateDirectory(userData);
        await File.WriteAllTextAsync(Path.Combine(userData, "start-daemon"), "");

        using (var created = await _operator!.CreateAsync("local-d"))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        await Eventually.TrueAsync(() => File.Exists(Path.Combine(userData, "daemon.pid")) && new FileInfo(Path.Combine(userData, "daemon.pid")).Length > 0, "the daemon started");
        var daemon = ReadPid(Path.Combine(userData, "daemon.pid"));
        Assert.True(Exists(daemon));
        Assert.NotEqual(SessionOf(EditorPid("local-d")), SessionOf(daemon));

        using (var stopped = await _operator.StopWorkspaceAsync("local-d"))
        {
            Assert.Equal(HttpStatusCode.OK, stopped.StatusCode);
        }

        Assert.False(Exists(daemon), "a process in a session of its own outlived its workspace's stop");
    }

    // The session id: the sixth field of /proc/<pid>/stat, read after the command's closing parenthesis.
    private static int SessionOf(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[3], CultureInfo.InvariantCulture);
    }

    private Task<OperatorHost> StartOperatorAsync(string? codeServer = null) =>
        OperatorHost.StartLocalAsync(_data.FullName, codeServer ?? FakeCodeServer, _redis);

    // The operator's record of the editor it started, kept beside the workspaces, out of their users' reach.
    private int EditorPid(string sid) => ReadPid(Path.Combine(_data.FullName, ".editors", sid + ".pid"));

    // What the stand-in editor spawned, written into its user data.
    private int ChildPid(string sid) => ReadPid(Path.Combine(_data.FullName, sid, ".code-server", "data", "child.pid"));

    private static int ReadPid(string file) => int.Parse(File.ReadAllText(file), CultureInfo.InvariantCulture);

    // Between an editor's exit and its successor's start the file is briefly absent or being written.
    private int? TryEditorPid(string sid)
    {
        try
        {
            return int.TryParse(File.ReadAllText(Path.Combine(_data.FullName, ".editors", sid + ".pid")), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : null;
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    // A zombie (exited, not yet reaped by its parent) counts as gone.
    private static bool Exists(int pid) =>
        File.Exists($"/proc/{pid}/stat") && !File.ReadAllText($"/proc/{pid}/stat").Split(' ')[2].Equals("Z", StringComparison.Ordinal);
}
