using System.Diagnostics;
using System.Globalization;
using Operator.Drivers.Kubernetes;
using Operator.Workspaces;

namespace Operator.Tests.Drivers.Kubernetes;

/// <summary>
/// The workspace pod's start script, run by a real shell: the old platform's pods each took the whole
/// grace period to stop because code-server never saw the SIGTERM sent to the container's first process.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class StartScriptTests : IDisposable
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("start-script");

    public void Dispose() => _root.Delete(recursive: true);

    [Fact]
    public async Task SIGTERM_to_the_shell_stops_code_server_at_once_and_its_folders_and_settings_are_on_the_volume()
    {
        var bin = Directory.CreateDirectory(Path.Combine(_root.FullName, "bin"));
        var codeServer = Path.Combine(bin.FullName, "code-server");
        File.WriteAllText(codeServer, $"#!/bin/sh\nexec '{Path.Combine(AppContext.BaseDirectory, "FakeCodeServer")}' \"$@\"\n");
        File.SetUnixFileMode(codeServer, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var port = FreePort.Next();
        var volume = Path.Combine(_root.FullName, "user_data");

        // The shell as a container runs it: PID 1 of its own PID namespace, which receives a signal from
        // outside only if it handles it (without the trap, SIGTERM would be dropped).
        var start = new ProcessStartInfo("unshare")
        {
            ArgumentList = { "--pid", "--fork", "--kill-child", "/bin/sh", "-c", KubernetesWorkspaceDriver.StartScript },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["PATH"] = bin.FullName + ":" + Environment.GetEnvironmentVariable("PATH");
        start.Environment["CS_PORT"] = port.ToString(CultureInfo.InvariantCulture);
        start.Environment["CS_HOME"] = volume + "/.code-server";
        start.Environment["CS_FOLDER"] = volume + "/workspace";
        start.Environment["CS_MACHINE_SETTINGS"] = "{ \"chat.disableAIFeatures\": true }";
        using var container = Process.Start(start)!;
        container.OutputDataReceived += (_, _) => { };
        container.ErrorDataReceived += (_, _) => { };
        container.BeginOutputReadLine();
        container.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(1) };
            await Eventually.TrueAsync(
                async () =>
                {
                    try
                    {
                        return (await http.GetAsync(new Uri($"http://127.0.0.1:{port}/healthz"))).IsSuccessStatusCode;
                    }
                    catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                    {
                        // Not listening yet, or listening but still starting up (a slow first answer on a busy machine).
                        return false;
                    }
                },
                "code-server answers /healthz",
                TimeSpan.FromSeconds(20));
            Assert.Equal(volume + "/workspace", await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/whoami")));
            Assert.True(Directory.Exists(volume + "/.code-server/data") && Directory.Exists(volume + "/.code-server/extensions"));

            // The platform's settings are the editor's machine settings; their variable is not left to the editor
            // or its terminals.
            Assert.Equal("{ \"chat.disableAIFeatures\": true }\n", await File.ReadAllTextAsync(volume + "/.code-server/data/Machine/settings.json"));
            using (var variable = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/env/CS_MACHINE_SETTINGS")))
            {
                Assert.Equal(System.Net.HttpStatusCode.NotFound, variable.StatusCode);
            }

            // What the kubelet does on pod deletion: SIGTERM to the container's first process only.
            var shellPid = File.ReadAllText($"/proc/{container.Id}/task/{container.Id}/children").Trim();
            var stopping = Stopwatch.StartNew();
            using (var kill = Process.Start("kill", ["-TERM", shellPid]))
            {
                await kill.WaitForExitAsync();
            }

            await Eventually.TrueAsync(() => container.HasExited, "the container's shell exits", TimeSpan.FromSeconds(5));
            Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(5), $"stopped after {stopping.Elapsed}");
            Assert.Equal(0, container.ExitCode);
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => http.GetAsync(new Uri($"http://127.0.0.1:{port}/healthz")));
        }
        finally
        {
            // Ending PID 1 of the namespace ends everything in it, the stand-in's child included.
            if (!container.HasExited)
            {
                container.Kill(entireProcessTree: true);
            }
        }
    }
}
