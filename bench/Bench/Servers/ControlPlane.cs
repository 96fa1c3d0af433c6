using System.Security.Cryptography;

namespace Bench.Servers;

/// <summary>
/// The operator (local driver, stand-in editors) and the web API (SQLite) as separate processes on the stack's
/// Redis, as <c>./run.sh</c> runs them: each can be killed with SIGKILL and started again with the same settings.
/// </summary>
internal sealed class ControlPlane : IDisposable
{
    private readonly string _runDirectory;
    private readonly string _operatorExecutable;
    private readonly string _webApiExecutable;
    private readonly string[] _operatorArguments;
    private readonly string[] _webApiArguments;

    private ControlPlane(string repoRoot, string buildDirectory, string runDirectory, int redisPort, int balancerPort)
    {
        _runDirectory = runDirectory;
        WorkspacesDirectory = Directory.CreateDirectory(Path.Combine(runDirectory, "workspaces")).FullName;
        var webApiData = Directory.CreateDirectory(Path.Combine(runDirectory, "webapi")).FullName;
        OperatorPort = Ports.Free();
        WebApiPort = Ports.Free();
        _operatorExecutable = Path.Combine(buildDirectory, "operator", "Operator");
        _webApiExecutable = Path.Combine(buildDirectory, "webapi", "WebApi");
        _operatorArguments =
        [
            $"--urls=http://127.0.0.1:{OperatorPort}",
            $"--ConfigFile={Path.Combine(repoRoot, "config", "operator.json")}",
            "--Logging:LogLevel:Default=Warning",
            "--Operator:Driver=Local",
            $"--Operator:Local:DataDirectory={WorkspacesDirectory}",
            $"--Operator:Local:CodeServer={Path.Combine(buildDirectory, "editor", "FakeCodeServer")}",
            // Editors as the bench's own user: the isolation has tests of its own.
            "--Operator:Local:Isolation=None",
            $"--Operator:Redis:Configuration=127.0.0.1:{redisPort}",
        ];
        _webApiArguments =
        [
            $"--urls=http://127.0.0.1:{WebApiPort}",
            $"--ConfigFile={Path.Combine(repoRoot, "config", "webapi.json")}",
            "--Logging:LogLevel:Default=Warning",
            $"--WebApi:DataDirectory={webApiData}",
            $"--WebApi:Database:ConnectionString=Data Source={Path.Combine(webApiData, "webapi.db")}",
            $"--WebApi:Operator:Url=http://127.0.0.1:{OperatorPort}",
            $"--WebApi:Tickets:SigningKey={Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))}",
            $"--WebApi:Tickets:GatewayUrl=http://127.0.0.1:{balancerPort}",
            $"--WebApi:CatalogFile={Path.Combine(repoRoot, "config", "catalog.json")}",
            "--WebApi:Accounts:RequireVerifiedEmail=false",
            $"--WebApi:Redis:Configuration=127.0.0.1:{redisPort}",
        ];
    }

    /// <summary>Where the local driver keeps each workspace's folder: what must be gone once a workspace is deleted.</summary>
    public string WorkspacesDirectory { get; }

    public int OperatorPort { get; }

    public int WebApiPort { get; }

    public PinnedProcess Operator { get; private set; } = null!;

    public PinnedProcess WebApi { get; private set; } = null!;

    /// <summary>Publishes the operator, the web API and the stand-in editor (Release) into <paramref name="buildDirectory"/>.</summary>
    public static void Publish(string repoRoot, string buildDirectory)
    {
        foreach (var (project, folder) in new[] { ("src/Operator", "operator"), ("src/WebApi", "webapi"), ("tests/FakeCodeServer", "editor") })
        {
            Tools.Publish(repoRoot, project, Path.Combine(buildDirectory, folder));
        }
    }

    public static async Task<ControlPlane> StartAsync(string repoRoot, string buildDirectory, string runDirectory, int redisPort, int balancerPort)
    {
        var plane = new ControlPlane(repoRoot, buildDirectory, runDirectory, redisPort, balancerPort);
        try
        {
            await plane.RestartOperatorAsync();
            await plane.RestartWebApiAsync();
            return plane;
        }
        catch
        {
            plane.Dispose();
            throw;
        }
    }

    /// <summary>The operator started (again), with the same settings and data.</summary>
    public async Task RestartOperatorAsync()
    {
        Operator?.Dispose();
        Operator = PinnedProcess.Start("operator", BenchStack.ServerCore, _runDirectory, _operatorExecutable, _operatorArguments);
        await Ports.WaitUntilListeningAsync(OperatorPort, Operator, TimeSpan.FromSeconds(60));
    }

    /// <summary>The web API started (again), with the same settings and database.</summary>
    public async Task RestartWebApiAsync()
    {
        WebApi?.Dispose();
        WebApi = PinnedProcess.Start("webapi", BenchStack.ServerCore, _runDirectory, _webApiExecutable, _webApiArguments);
        await Ports.WaitUntilListeningAsync(WebApiPort, WebApi, TimeSpan.FromSeconds(60));
    }

    /// <summary>Processes whose command line names the workspaces' folder: the editors (and whatever they started).</summary>
    public List<int> EditorProcesses()
    {
        var found = new List<int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid))
            {
                continue;
            }

            try
            {
                if (File.ReadAllText(Path.Combine(directory, "cmdline")).Contains(WorkspacesDirectory, StringComparison.Ordinal))
                {
                    found.Add(pid);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Ended while read.
            }
        }

        return found;
    }

    public void Dispose()
    {
        // The web API first: nothing asks the operator for a start while it stops its editors.
        WebApi?.Dispose();
        Operator?.Dispose();
    }
}
