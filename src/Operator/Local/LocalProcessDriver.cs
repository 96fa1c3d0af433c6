using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;
using WorkspaceOperator.Configuration;
using WorkspaceOperator.Workspaces;

namespace WorkspaceOperator.Local;

/// <summary>
/// A workspace on this machine: a code-server process on a free loopback port, in its own process group,
/// with its data directory <c>&lt;DataDirectory&gt;/&lt;sid&gt;/</c> (user data and extensions under
/// <c>.code-server/</c>, the folder it opens under <c>workspace/</c>), kept across stop/start and removed on
/// delete. The spec's image and sizes do not apply here: the editor is the code-server installed locally.
/// </summary>
internal sealed partial class LocalProcessDriver : IWorkspaceDriver, IWorkloadEvents, IAsyncDisposable
{
    private static readonly HttpClient Probe = new() { Timeout = TimeSpan.FromSeconds(1) };

    // Exits in a row after which the workspace is reported failing (it is still retried, more slowly).
    private const int FailuresReported = 3;
    private static readonly TimeSpan MaxRestartDelay = TimeSpan.FromMinutes(5);

    private readonly LocalOptions _options;
    private readonly string _dataRoot;
    private readonly TimeProvider _time;
    private readonly ILogger<LocalProcessDriver> _logger;
    private readonly ConcurrentDictionary<string, LocalEditor> _editors = new();
    private readonly ConcurrentDictionary<string, CrashedEditor> _crashed = new();

    public LocalProcessDriver(IOptions<OperatorOptions> options, TimeProvider time, ILogger<LocalProcessDriver> logger)
    {
        _options = options.Value.Local;
        _dataRoot = Path.GetFullPath(_options.DataDirectory);
        _time = time;
        _logger = logger;
    }

    /// <summary>Raised when an editor exits on its own, so it is restarted (or reported) at once.</summary>
    public event Action<string>? Changed;

    /// <summary>The workspace's data directory (what a Kubernetes workspace has on its volume).</summary>
    public string DataDirectory(string sid) => Path.Combine(_dataRoot, sid);

    public async Task<WorkloadObservation> EnsureRunningAsync(Workspace workspace, CancellationToken cancellationToken)
    {
        var sid = workspace.Sid;
        if (_editors.TryGetValue(sid, out var editor))
        {
            if (!editor.Process.HasExited)
            {
                if (await AnswersAsync(editor.Port, cancellationToken))
                {
                    editor.Failures = 0;
                    return WorkloadObservation.Ready(IPAddress.Loopback.ToString(), editor.Port, Environment.MachineName);
                }

                return _time.GetElapsedTime(editor.StartedAt) > _options.StartTimeout
                    ? new(WorkloadState.Stuck, "EditorNotAnswering", $"code-server has not answered /healthz for {_options.StartTimeout.TotalSeconds:0} s; see {LogFile(sid)}")
                    : new(WorkloadState.Starting, "Probing", "waiting for the editor to answer /healthz") { PodIP = IPAddress.Loopback.ToString(), Port = editor.Port };
            }

            // What it spawned (terminals, language servers) may have outlived it: end the group too. The exit
            // code is read first: once the process object is released it is gone, and reading it then threw,
            // which lost the count of failures and restarted a crashing editor in a tight loop.
            _editors.TryRemove(sid, out _);
            var exitCode = editor.Process.ExitCode;
            await editor.Process.StopAsync(TimeSpan.Zero);
            editor.Process.Dispose();
            LogExited(sid, exitCode ?? -1, editor.Failures + 1);
            _crashed[sid] = new CrashedEditor(editor.Failures + 1, exitCode, _time.GetTimestamp());
        }

        if (_crashed.TryGetValue(sid, out var crashed))
        {
            // Restarts back off as the kubelet's do (CrashLoopBackOff): 1 s, 2 s, 4 s... up to 5 min.
            var wait = RestartDelay(crashed.Failures) - _time.GetElapsedTime(crashed.ExitedAt);
            if (wait > TimeSpan.Zero)
            {
                return crashed.Failures >= FailuresReported
                    ? new(WorkloadState.Stuck, "EditorFailing", $"code-server exited {crashed.Failures} times in a row (last exit code {crashed.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "unknown"}); trying again in {wait.TotalSeconds:0} s; see {LogFile(sid)}")
                    : new(WorkloadState.Starting, "EditorBackOff", $"code-server exited with code {crashed.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "unknown"}; starting it again in {wait.TotalSeconds:0.0} s");
            }

            _crashed.TryRemove(sid, out _);
            return Start(workspace, crashed.Failures, crashed.ExitCode);
        }

        return Start(workspace, failures: 0, previousExit: null);
    }

    public async Task<bool> EnsureStoppedAsync(Workspace workspace, CancellationToken cancellationToken)
    {
        // A stop also forgets past failures: the next start is the user's, and begins afresh.
        _crashed.TryRemove(workspace.Sid, out _);
        if (_editors.TryRemove(workspace.Sid, out var editor))
        {
            await editor.Process.StopAsync(_options.StopTimeout);
            editor.Process.Dispose();
            LogStopped(workspace.Sid);
        }

        KillLeftover(workspace.Sid);
        return true;
    }

    public async Task<bool> EnsureDeletedAsync(Workspace workspace, CancellationToken cancellationToken)
    {
        await EnsureStoppedAsync(workspace, cancellationToken);
        var directory = DataDirectory(workspace.Sid);
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
            LogRemovedData(workspace.Sid, directory);
        }

        return true;
    }

    /// <summary>Stops every editor (the operator is shutting down); returns their sids.</summary>
    public async Task<IReadOnlyList<string>> StopAllAsync()
    {
        _crashed.Clear();
        var stopped = new List<string>();
        foreach (var sid in _editors.Keys)
        {
            if (_editors.TryRemove(sid, out var editor))
            {
                await editor.Process.StopAsync(_options.StopTimeout);
                editor.Process.Dispose();
                stopped.Add(sid);
            }
        }

        return stopped;
    }

    public async ValueTask DisposeAsync() => await StopAllAsync();

    private static TimeSpan RestartDelay(int failures) =>
        TimeSpan.FromSeconds(Math.Min(MaxRestartDelay.TotalSeconds, Math.Pow(2, Math.Max(0, failures - 1))));

    private WorkloadObservation Start(Workspace workspace, int failures, int? previousExit)
    {
        var sid = workspace.Sid;
        var codeServer = CodeServerLocator.Find(_options.CodeServer, out var lookedIn);
        if (codeServer is null)
        {
            return new(WorkloadState.Stuck, "EditorMissing", $"code-server is not installed (looked in {lookedIn}); ./run.sh installs it, or see ../shared/PACKAGES.md");
        }

        KillLeftover(sid);
        var directory = DataDirectory(sid);
        var home = Path.Combine(directory, ".code-server");
        var folder = Path.Combine(directory, "workspace");
        Directory.CreateDirectory(Path.Combine(home, "data"));
        Directory.CreateDirectory(Path.Combine(home, "extensions"));
        Directory.CreateDirectory(folder);

        var port = FreeLoopbackPort();
        var processId = 0;
        var process = ProcessGroup.Start(
            codeServer,
            [
                "--bind-addr", $"127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}",
                "--auth", "none",
                "--disable-telemetry",
                "--disable-update-check",
                "--disable-workspace-trust",

                // Without it code-server writes ~/.config/code-server/config.yaml of whoever runs the operator.
                "--config", Path.Combine(home, "config.yaml"),
                "--user-data-dir", Path.Combine(home, "data"),
                "--extensions-dir", Path.Combine(home, "extensions"),
                folder,
            ],
            LogFile(sid),
            IsOperatorSetting,
            onExit: () =>
            {
                if (_editors.TryGetValue(sid, out var current) && current.Process.Id == processId)
                {
                    Changed?.Invoke(sid);
                }
            });
        processId = process.Id;
        var pidFile = PidFile(sid);
        File.WriteAllText(pidFile + ".tmp", process.Id.ToString(CultureInfo.InvariantCulture));
        File.Move(pidFile + ".tmp", pidFile, overwrite: true);
        _editors[sid] = new LocalEditor(process, port, _time.GetTimestamp()) { Failures = failures };
        LogStarted(sid, process.Id, port);
        var reason = previousExit is null ? "EditorStarting" : "EditorRestarting";
        var message = previousExit is null ? "code-server is starting" : $"code-server exited with code {previousExit}; started again";
        return new(WorkloadState.Starting, reason, message) { PodIP = IPAddress.Loopback.ToString(), Port = port };
    }

    // An editor from an earlier operator run that was not stopped (the operator was killed): it holds the
    // data directory and must go before a new one starts. Only a process whose command line names this
    // workspace's directory is touched.
    private void KillLeftover(string sid)
    {
        var pidFile = PidFile(sid);
        if (File.Exists(pidFile) && !_editors.ContainsKey(sid)
            && int.TryParse(File.ReadAllText(pidFile), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
        {
            if (ProcessGroup.KillLeftover(pid, DataDirectory(sid)))
            {
                LogKilledLeftover(sid, pid);
            }

            File.Delete(pidFile);
        }
    }

    private static async Task<bool> AnswersAsync(int port, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await Probe.GetAsync(new Uri($"http://127.0.0.1:{port}/healthz"), cancellationToken);
            return response.IsSuccessStatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private string PidFile(string sid) => Path.Combine(DataDirectory(sid), ".code-server", "editor.pid");

    // The operator's own settings (its API token among them) are not the editor's business: a workspace's
    // terminal runs with code-server's environment.
    private static bool IsOperatorSetting(string variable) =>
        variable.StartsWith("Operator__", StringComparison.OrdinalIgnoreCase) || variable.Equals(OperatorApplication.ConfigFileVariable, StringComparison.Ordinal);

    private string LogFile(string sid) => Path.Combine(DataDirectory(sid), ".code-server", "editor.log");

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private sealed record LocalEditor(ProcessGroup Process, int Port, long StartedAt)
    {
        /// <summary>Exits in a row before this start without the editor ever answering in between.</summary>
        public int Failures { get; set; }
    }

    /// <summary>An editor that exited on its own and waits out its restart delay.</summary>
    private sealed record CrashedEditor(int Failures, int? ExitCode, long ExitedAt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Workspace {Sid}: code-server started (pid {Pid}, 127.0.0.1:{Port})")]
    private partial void LogStarted(string sid, int pid, int port);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Workspace {Sid}: code-server exited on its own with code {ExitCode} ({Failures} in a row)")]
    private partial void LogExited(string sid, int exitCode, int failures);

    [LoggerMessage(Level = LogLevel.Information, Message = "Workspace {Sid}: code-server stopped")]
    private partial void LogStopped(string sid);

    [LoggerMessage(Level = LogLevel.Information, Message = "Workspace {Sid}: data directory {Directory} removed")]
    private partial void LogRemovedData(string sid, string directory);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Workspace {Sid}: killed code-server left by an earlier run (pid {Pid})")]
    private partial void LogKilledLeftover(string sid, int pid);
}
