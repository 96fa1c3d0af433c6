using System.Globalization;
using System.Net;
using Operator.Configuration;
using Operator.Tests.Infrastructure;

namespace Operator.Tests.Drivers.Local;

/// <summary>
/// The local driver with a user per workspace (<c>Operator:Local:Isolation=Users</c>, the default as root): a
/// workspace's terminal runs as its own user, and the kernel, not the platform, keeps it from the platform's
/// keys and from every other workspace. The stand-in editor tries what a shell would (read, list, connect) and
/// reports what the kernel answered. Needs root, as ./run.sh on these machines and CI have.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class EditorIsolationTests : IAsyncLifetime
{
    private static readonly string FakeCodeServer = Path.Combine(AppContext.BaseDirectory, "FakeCodeServer");

    private readonly RedisServer _redis = new();
    private readonly DirectoryInfo _platform = Directory.CreateTempSubdirectory("isolation");
    private OperatorHost? _operator;
    private GatewayHost? _gateway;

    private string Workspaces => Path.Combine(_platform.FullName, "workspaces");

    private string Secret => Path.Combine(_platform.FullName, "signing-key");

    // Where the editors see their workspace: a folder of the test's, not the machine's /user_data.
    private string MountPath => Path.Combine(_platform.FullName, "user_data");

    private string MachineSettings => Path.Combine(_platform.FullName, "editor-settings.json");

    public async Task InitializeAsync()
    {
        // As ./run.sh lays its data folder out as root: passable by others, its keys readable by root alone.
        File.SetUnixFileMode(_platform.FullName, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.OtherExecute | UnixFileMode.GroupExecute);
        await File.WriteAllTextAsync(Secret, "the platform's key");
        File.SetUnixFileMode(Secret, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await File.WriteAllTextAsync(MachineSettings, "{ \"telemetry.telemetryLevel\": \"off\" }");
        await _redis.InitializeAsync();
        try
        {
            _gateway = await GatewayHost.StartAsync(_redis, $"--Gateway:Routes:UnixSocketDirectory={Workspaces}");
            if (Environment.IsPrivilegedProcess)
            {
                _operator = await OperatorHost.StartLocalAsync(Workspaces, FakeCodeServer, _redis, "--Operator:Local:Isolation=Users", $"--Operator:EditorSettingsFile={MachineSettings}");
            }
        }
        catch
        {
            // xunit does not dispose a test whose set-up failed: what was started stops here.
            await DisposeAsync();
            throw;
        }
    }

    [Fact]
    public async Task Each_workspace_runs_as_its_own_user_that_reaches_its_own_folder_and_nothing_else()
    {
        Assert.True(Environment.IsPrivilegedProcess, "these tests run as root (CI does); as another user the operator refuses Isolation=Users, see the next test");
        foreach (var sid in new[] { "iso-a", "iso-b" })
        {
            using var created = await _operator!.CreateAsync(sid, mountPath: MountPath);
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            Assert.Matches($"^unix:{Workspaces}/\\.sockets/[0-9]+/editor\\.sock$", (await OperatorHost.InfoAsync(created)).Address);
        }

        var a = await StatusAsync("iso-a", "Uid");
        var b = await StatusAsync("iso-b", "Uid");
        Assert.NotEqual(a, b);
        foreach (var (sid, ids) in new[] { ("iso-a", a), ("iso-b", b) })
        {
            var uid = uint.Parse(ids.Split('\t')[0], CultureInfo.InvariantCulture);
            Assert.True(uid >= new LocalOptions().FirstEditorUid, $"{sid} runs as uid {uid}");
            Assert.All(ids.Split('\t'), id => Assert.Equal(uid.ToString(CultureInfo.InvariantCulture), id));
            Assert.Contains(File.ReadLines("/etc/passwd"), line => line.StartsWith($"cide{uid}:x:{uid}:{uid}:", StringComparison.Ordinal) && line.Contains($":{Workspaces}/{sid}:", StringComparison.Ordinal));

            // No way up: no setuid program raises it, no capability is left.
            Assert.Equal("1", await StatusAsync(sid, "NoNewPrivs"));
            Assert.Equal(0UL, ulong.Parse(await StatusAsync(sid, "CapBnd"), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
        }

        // Its own folder is its own...
        using (var put = await _gateway!.Client.PutAsync("/ws/iso-a/files/mine.txt", new StringContent("a's notes")))
        {
            Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        }

        using (var put = await _gateway.Client.PutAsync("/ws/iso-b/files/theirs.txt", new StringContent("b's notes")))
        {
            Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        }

        Assert.StartsWith("read:", await ProbeAsync("iso-a", "read", "path", Path.Combine(Workspaces, "iso-a", "workspace", "mine.txt")), StringComparison.Ordinal);

        // ...and nothing else is: not the platform's key, not the operator's records, not the other
        // workspace's folder or its editor's socket.
        Assert.StartsWith("denied", await ProbeAsync("iso-a", "read", "path", Secret), StringComparison.Ordinal);
        Assert.StartsWith("denied", await ProbeAsync("iso-a", "read", "path", Path.Combine(Workspaces, ".editors", "iso-b.log")), StringComparison.Ordinal);
        Assert.StartsWith("denied", await ProbeAsync("iso-a", "list", "path", Path.Combine(Workspaces, ".editors")), StringComparison.Ordinal);
        Assert.StartsWith("denied", await ProbeAsync("iso-a", "list", "path", Workspaces), StringComparison.Ordinal);
        Assert.StartsWith("denied", await ProbeAsync("iso-a", "list", "path", Path.Combine(Workspaces, "iso-b")), StringComparison.Ordinal);
        Assert.StartsWith("denied", await ProbeAsync("iso-a", "read", "path", Path.Combine(Workspaces, "iso-b", "workspace", "theirs.txt")), StringComparison.Ordinal);
        var socketB = Path.Combine(Workspaces, ".sockets", b.Split('\t')[0], "editor.sock");
        Assert.True(File.Exists(socketB));
        Assert.StartsWith("denied", await ProbeAsync("iso-a", "connect", "socket", socketB), StringComparison.Ordinal);
        Assert.StartsWith("denied", await ProbeAsync("iso-a", "list", "path", Path.Combine(Workspaces, ".sockets")), StringComparison.Ordinal);
        Assert.StartsWith("denied", await ProbeAsync("iso-b", "read", "path", Path.Combine(Workspaces, "iso-a", "workspace", "mine.txt")), StringComparison.Ordinal);

        // Deleted, the workspace takes its user with it.
        var uidA = a.Split('\t')[0];
        using (var deleted = await _operator!.DeleteWorkspaceAsync("iso-a"))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        Assert.False(Directory.Exists(Path.Combine(Workspaces, "iso-a")));
        Assert.False(Directory.Exists(Path.Combine(Workspaces, ".sockets", uidA)));
        Assert.DoesNotContain(File.ReadLines("/etc/passwd"), line => line.StartsWith($"cide{uidA}:", StringComparison.Ordinal));
        Assert.DoesNotContain(File.ReadLines("/etc/group"), line => line.StartsWith($"cide{uidA}:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_folder_written_before_it_had_a_user_is_handed_over_whole()
    {
        Assert.True(Environment.IsPrivilegedProcess, "these tests run as root (CI does)");

        // What an earlier version left: the workspace's files, written as the operator's user.
        var old = Directory.CreateDirectory(Path.Combine(Workspaces, "iso-old", "workspace", "src"));
        await File.WriteAllTextAsync(Path.Combine(old.FullName, "main.go"), "package main");
        using var created = await _operator!.CreateAsync("iso-old", mountPath: MountPath);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        Assert.StartsWith("read:", await ProbeAsync("iso-old", "read", "path", Path.Combine(old.FullName, "main.go")), StringComparison.Ordinal);
        using var put = await _gateway!.Client.PutAsync("/ws/iso-old/files/added.txt", new StringContent("writable"));
        Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        using var deleted = await _operator.DeleteWorkspaceAsync("iso-old");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
    }

    [Fact]
    public async Task The_editor_sees_its_workspace_at_the_mount_path_and_no_path_of_the_machine()
    {
        Assert.True(Environment.IsPrivilegedProcess, "these tests run as root (CI does)");
        var mountPath = MountPath;
        using (var created = await _operator!.CreateAsync("iso-m", mountPath: mountPath))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        // What the address (?folder=) and the terminals show: the mount path, as on Kubernetes.
        Assert.Equal(Path.Combine(mountPath, "workspace"), await _gateway!.Client.GetStringAsync(new Uri("/ws/iso-m/whoami", UriKind.Relative)));
        Assert.Equal(mountPath, await _gateway.Client.GetStringAsync(new Uri("/ws/iso-m/env/HOME", UriKind.Relative)));
        using (var put = await _gateway.Client.PutAsync("/ws/iso-m/files/seen.txt", new StringContent("kept")))
        {
            Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        }

        // The files are the workspace's data directory; the machine sees an empty mount point.
        Assert.Equal("kept", await File.ReadAllTextAsync(Path.Combine(Workspaces, "iso-m", "workspace", "seen.txt")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(mountPath));

        // The machine settings are written by the workspace's user, and their variable reaches neither the editor
        // nor its terminals.
        var settings = Path.Combine(Workspaces, "iso-m", ".code-server", "data", "Machine", "settings.json");
        Assert.Contains("telemetry.telemetryLevel", await File.ReadAllTextAsync(settings), StringComparison.Ordinal);
        Assert.Equal((await StatusAsync("iso-m", "Uid")).Split('\t')[0], await OwnerAsync(settings));
        using (var variable = await _gateway.Client.GetAsync(new Uri("/ws/iso-m/env/CIDE_MACHINE_SETTINGS", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.NotFound, variable.StatusCode);
        }

        // A mount point that holds anything is never covered: that editor opens the folder where it is.
        var occupied = Directory.CreateDirectory(Path.Combine(_platform.FullName, "occupied"));
        await File.WriteAllTextAsync(Path.Combine(occupied.FullName, "machine.txt"), "the machine's own");
        using (var created = await _operator.CreateAsync("iso-o", mountPath: occupied.FullName))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        Assert.Equal(Path.Combine(Workspaces, "iso-o", "workspace"), await _gateway.Client.GetStringAsync(new Uri("/ws/iso-o/whoami", UriKind.Relative)));
        Assert.Equal(["machine.txt"], Directory.EnumerateFileSystemEntries(occupied.FullName).Select(Path.GetFileName));
    }

    [Fact]
    public void Isolation_is_refused_where_it_cannot_work_with_the_reason()
    {
        // A folder only its owner may enter, as a home folder is (CreateTempSubdirectory makes it 700).
        var privateFolder = Path.Combine(_platform.FullName, "private");
        Directory.CreateDirectory(privateFolder);
        File.SetUnixFileMode(privateFolder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var behindPrivateFolder = new OperatorOptions { Local = { DataDirectory = Path.Combine(privateFolder, "workspaces"), Isolation = EditorIsolation.Users } };
        var refusal = new OperatorOptionsValidator().Validate(null, behindPrivateFolder).FailureMessage;
        Assert.Contains(
            Environment.IsPrivilegedProcess ? "which other users cannot pass through" : "Operator:Local:Isolation=Users needs the operator to run as root",
            refusal,
            StringComparison.Ordinal);

        var tooDeep = new OperatorOptions { Local = { DataDirectory = "/" + string.Join('/', Enumerable.Repeat("deep", 16)), Isolation = EditorIsolation.Auto } };
        if (Environment.IsPrivilegedProcess)
        {
            Assert.Contains("too long for the editors' sockets", new OperatorOptionsValidator().Validate(null, tooDeep).FailureMessage, StringComparison.Ordinal);
        }
    }

    private async Task<string> StatusAsync(string sid, string field) =>
        (await _gateway!.Client.GetStringAsync(new Uri($"/ws/{sid}/probe/status/{field}", UriKind.Relative))).Trim();

    private static async Task<string> OwnerAsync(string path)
    {
        using var stat = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("stat", ["-c", "%u", path]) { RedirectStandardOutput = true })!;
        var owner = await stat.StandardOutput.ReadToEndAsync();
        await stat.WaitForExitAsync();
        return owner.Trim();
    }

    private async Task<string> ProbeAsync(string sid, string what, string parameter, string value)
    {
        using var response = await _gateway!.Client.GetAsync(new Uri($"/ws/{sid}/probe/{what}?{parameter}={Uri.EscapeDataString(value)}", UriKind.Relative));
        return await response.Content.ReadAsStringAsync();
    }

    public async Task DisposeAsync()
    {
        if (_operator is not null)
        {
            foreach (var sid in new[] { "iso-a", "iso-b", "iso-old", "iso-m", "iso-o" })
            {
                using var _ = await _operator.DeleteWorkspaceAsync(sid);
            }

            await _operator.DisposeAsync();
        }

        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }

        await _redis.DisposeAsync();
        _platform.Delete(recursive: true);
    }
}
