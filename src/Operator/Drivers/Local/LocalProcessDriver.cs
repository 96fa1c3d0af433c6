using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Contracts.Workspaces;
using Microsoft.Extensions.Options;
using Operator.Configuration;
using Operator.Workspaces;
using ServiceDefaults.Routing;

namespace Operator.Drivers.Local;

/// <summary>
/// A workspace on this machine: a code-server process in its own process group, with its data directory
/// <c>&lt;DataDirectory&gt;/&lt;sid&gt;/</c> (user data and extensions under <c>.code-server/</c>, the folder it
/// opens under <c>workspace/</c>), kept across stop/start and removed on delete. With
/// <see cref="EditorIsolation.Users"/> the editor runs as the workspace's own user (<see cref="EditorAccounts"/>)
/// and listens on a Unix socket in a folder of its own, which no other workspace can reach; otherwise it runs as the
/// operator's user on a free loopback port. The operator's own files about it (pid, log, uid) are kept in
/// <c>&lt;DataDirectory&gt;/.editors/</c>, where the workspace's user cannot swap them for links to other
/// files. The spec's image and sizes do not apply here: the editor is the code-server installed locally.
/// </summary>
internal sealed partial class LocalProcessDriver : IWorkspaceDriver, IWorkloadEvents, IListeningPorts, IAsyncDisposable
{
    private static readonly HttpClient Probe = new() { Timeout = TimeSpan.FromSeconds(1) };

    // Exits in a row after which the workspace is reported failing (it is still retried, more slowly).
    private const int FailuresReported = 3;
    private static readonly TimeSpan MaxRestartDelay = TimeSpan.FromMinutes(5);

    // Runs as the workspace's user: makes its folders (never the operator, which runs as root and would follow
    // links the user planted there), then becomes code-server.
    // The machine settings come in an environment variable that is unset before code-server starts, so neither
    // it nor the user's terminals inherit them.
    private const string MakeFoldersThenRun =
        "mkdir -p \"$1\" \"$2\" \"$3\" && "
        + "if [ -n \"${CIDE_MACHINE_SETTINGS+set}\" ]; then mkdir -p \"$1/Machine\" && printf '%s\\n' \"$CIDE_MACHINE_SETTINGS\" > \"$1/" + EditorSettings.RelativePath + "\"; fi && "
        + "unset CIDE_MACHINE_SETTINGS && shift 3 && exec \"$@\"";

    private readonly LocalOptions _options;
    private readonly string _dataRoot;
    private readonly string _records;
    private readonly EditorAccounts _accounts;
    private readonly TimeProvider _time;
    private readonly ILogger<LocalProcessDriver> _logger;
    private readonly ConcurrentDictionary<string, LocalEditor> _editors = new();
    private readonly ConcurrentDictionary<string, CrashedEditor> _crashed = new();
    private readonly string? _machineSettings;
    private readonly WorkspaceMount _mount = new();
    private readonly ConcurrentDictionary<string, byte> _mountRefused = new();
    private readonly WorkspaceCgroups _cgroups;

    public LocalProcessDriver(IOptions<OperatorOptions> options, TimeProvider time, ILogger<LocalProcessDriver> logger)
    {
        _options = options.Value.Local;
        _dataRoot = Path.GetFullPath(_options.DataDirectory);
        _records = Path.Combine(_dataRoot, ".editors");
        Directory.CreateDirectory(_records);
        EditorAccounts.SetMode(_records, EditorAccounts.OwnerOnly);
        _accounts = new EditorAccounts(_options, _dataRoot, _records);
        _machineSettings = EditorSettings.Of(options.Value);
        _time = time;
        _logger = logger;
        _cgroups = new WorkspaceCgroups(_dataRoot, logger);
        if (_accounts.Separate)
        {
            LogSeparateUsers(_dataRoot);
        }
        else
        {
            LogSharedUser(Environment.UserName, _options.Isolation == EditorIsolation.Auto);
        }
    }

    /// <summary>Whether each editor runs as a user of its own (and on a socket).</summary>
    public bool SeparateUsers => _accounts.Separate;

    /// <summary>Raised when an editor exits on its own, so it is restarted (or reported) at once.</summary>
    public event Action<string>? Changed;

    /// <summary>
    /// The TCP ports the workspace's editor and what it started listen on (its dev servers), or null when its
    /// editor is not running here. The editor's own port (shared-user editors listen on one) is not offered.
    /// </summary>
    public IReadOnlyList<int>? ListeningPorts(string sid) =>
        _editors.TryGetValue(sid, out var editor) && !editor.Process.HasExited
            ? ListeningSockets.Of(editor.Process.Id, except: editor.Port)
            : null;

    private bool MountUsable(string mountPath)
    {
        if (_mount.TryPrepare(mountPath, out var reason))
        {
            return true;
        }

        if (_mountRefused.TryAdd(mountPath, 0))
        {
            LogMachinePathsShown(mountPath, reason);
        }

        return false;
    }

    /// <summary>The workspace's data directory (what a Kubernetes workspace has on its volume).</summary>
    public string DataDirectory(string sid) => Path.Combine(_dataRoot, sid);

    public async Task<WorkloadObservation> EnsureRunningAsync(WorkspaceResource workspace, CancellationToken cancellationToken)
    {
        var sid = workspace.Sid;
        if (_editors.TryGetValue(sid, out var editor))
        {
            if (!editor.Process.HasExited)
            {
                if (await AnswersAsync(editor, cancellationToken))
                {
                    editor.Failures = 0;
                    return editor.Socket is { } socket
                        ? WorkloadObservation.ReadyOnSocket(socket, Environment.MachineName)
                        : WorkloadObservation.Ready(IPAddress.Loopback.ToString(), editor.Port, Environment.MachineName);
                }

                return _time.GetElapsedTime(editor.StartedAt) > _options.StartTimeout
                    ? new(WorkloadState.Stuck, WorkspaceReasons.EditorNotAnswering, $"code-server has not answered /healthz for {_options.StartTimeout.TotalSeconds:0} s; see {LogFile(sid)}")
                    : editor.Listening(new(WorkloadState.Starting, WorkspaceReasons.Probing, "the editor is starting; waiting for it to answer"));
            }

            // What it spawned (terminals, language servers) may have outlived it: end the group too. The exit
            // code is read first: once the process object is released it is gone, and reading it then threw,
            // which lost the count of failures and restarted a crashing editor in a tight loop.
            _editors.TryRemove(sid, out _);
            var exitCode = editor.Process.ExitCode;
            await editor.Process.StopAsync(TimeSpan.Zero);
            await _cgroups.EndAsync(sid);
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
                    ? new(WorkloadState.Stuck, WorkspaceReasons.EditorFailing, $"code-server exited {crashed.Failures} times in a row (last exit code {crashed.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "unknown"}); trying again in {wait.TotalSeconds:0} s; see {LogFile(sid)}")
                    : new(WorkloadState.Starting, WorkspaceReasons.EditorBackOff, $"code-server exited with code {crashed.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "unknown"}; starting it again in {wait.TotalSeconds:0.0} s");
            }

            _crashed.TryRemove(sid, out _);
            return Start(workspace, crashed.Failures, crashed.ExitCode);
        }

        return Start(workspace, failures: 0, previousExit: null);
    }

    public async Task<bool> EnsureStoppedAsync(WorkspaceResource workspace, CancellationToken cancellationToken)
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

        // What the workspace's user moved out of the editor's process group (setsid, a daemon) ends here.
        await _cgroups.EndAsync(workspace.Sid);
        return true;
    }

    public async Task<bool> EnsureDeletedAsync(WorkspaceResource workspace, CancellationToken cancellationToken)
    {
        await EnsureStoppedAsync(workspace, cancellationToken);
        var directory = DataDirectory(workspace.Sid);
        if (Directory.Exists(directory))
        {
            // Links the workspace's user left inside are removed, never followed.
            Directory.Delete(directory, recursive: true);
            LogRemovedData(workspace.Sid, directory);
        }

        File.Delete(LogFile(workspace.Sid));
        _accounts.Remove(workspace.Sid);
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
                await _cgroups.EndAsync(sid);
                editor.Process.Dispose();
                stopped.Add(sid);
            }
        }

        _cgroups.RemoveRootIfEmpty();
        return stopped;
    }

    public async ValueTask DisposeAsync() => await StopAllAsync();

    private static TimeSpan RestartDelay(int failures) =>
        TimeSpan.FromSeconds(Math.Min(MaxRestartDelay.TotalSeconds, Math.Pow(2, Math.Max(0, failures - 1))));

    private WorkloadObservation Start(WorkspaceResource workspace, int failures, int? previousExit)
    {
        var sid = workspace.Sid;
        var codeServer = CodeServerLocator.Find(_options.CodeServer, out var lookedIn);
        if (codeServer is null)
        {
            return new(WorkloadState.Stuck, WorkspaceReasons.EditorMissing, $"code-server is not installed (looked in {lookedIn}); ./run.sh installs it, or see ../shared/PACKAGES.md");
        }

        KillLeftover(sid);
        var directory = DataDirectory(sid);

        // Where the editor sees the directory: at the spec's mount path in a namespace of its own when it runs as
        // the workspace's user, so no path of this machine's shows in its address or terminals.
        var mountPath = workspace.Spec.MountPath.TrimEnd('/');
        var mounted = _accounts.Separate && mountPath.Length > 0 && MountUsable(mountPath);
        var seen = mounted ? mountPath : directory;
        var home = Path.Combine(seen, ".code-server");
        var folder = Path.Combine(seen, "workspace");
        string[] editorArguments =
        [
            "--auth", "none",
            "--disable-telemetry",
            "--disable-update-check",
            "--disable-workspace-trust",

            // code-server's Getting Started page advertises Coder's product; the platform's users did not ask for it.
            "--disable-getting-started-override",

            // Without it code-server writes ~/.config/code-server/config.yaml of whoever runs the operator.
            "--config", Path.Combine(home, "config.yaml"),
            "--user-data-dir", Path.Combine(home, "data"),
            "--extensions-dir", Path.Combine(home, "extensions"),
            folder,
        ];

        string executable;
        List<string> arguments;
        Dictionary<string, string> environment = [];
        var port = 0;
        string? socket = null;
        if (_accounts.Separate)
        {
            if (EditorAccounts.FirstBarrier(codeServer, file: true) is { } barrier)
            {
                return new(WorkloadState.Stuck, WorkspaceReasons.EditorMissing, $"code-server ({codeServer}) cannot be run by the workspace's own user: {barrier} lets no other user through; install it where every user can read it (./run.sh: TOOLS_DIR)");
            }

            var account = _accounts.Prepare(sid, directory);
            socket = account.Socket;

            // A socket left by a killed editor; if the user put something else there, it goes (never followed).
            File.Delete(socket);
            List<string> asUser =
            [
                "setpriv",
                "--reuid", account.Uid.ToString(CultureInfo.InvariantCulture),
                "--regid", account.Uid.ToString(CultureInfo.InvariantCulture),
                "--clear-groups",

                // No way back up: no setuid program (sudo) raises it, no capability is kept or inherited.
                "--no-new-privs", "--bounding-set=-all", "--inh-caps=-all",
                "--", "/bin/sh", "-c", MakeFoldersThenRun, "editor",
                Path.Combine(home, "data"), Path.Combine(home, "extensions"), folder,
                codeServer, "--socket", socket, "--socket-mode", "600", .. editorArguments,
            ];
            (executable, arguments) = mounted ? WorkspaceMount.Wrap(directory, mountPath, asUser) : (asUser[0], asUser[1..]);
            environment["HOME"] = mounted ? mountPath : account.Home;
            environment["USER"] = account.Name;
            environment["LOGNAME"] = account.Name;
            environment["SHELL"] = "/bin/bash";
            if (_machineSettings is not null)
            {
                environment["CIDE_MACHINE_SETTINGS"] = _machineSettings;
            }
        }
        else
        {
            Directory.CreateDirectory(Path.Combine(home, "data"));
            Directory.CreateDirectory(Path.Combine(home, "extensions"));
            Directory.CreateDirectory(folder);
            if (_machineSettings is not null)
            {
                // The operator's own user here: nothing another user planted can redirect the write.
                var machine = Path.Combine(home, "data", EditorSettings.RelativePath);
                Directory.CreateDirectory(Path.GetDirectoryName(machine)!);
                File.WriteAllText(machine, _machineSettings);
            }

            port = FreeLoopbackPort();
            executable = codeServer;
            arguments = ["--bind-addr", $"127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}", .. editorArguments];
        }

        var processId = 0;
        var process = ProcessGroup.Start(
            executable,
            arguments,
            LogFile(sid),
            IsOperatorSetting,
            environment,
            onExit: () =>
            {
                if (_editors.TryGetValue(sid, out var current) && current.Process.Id == processId)
                {
                    Changed?.Invoke(sid);
                }
            },
            cgroupProcs: _cgroups.Prepare(sid));
        processId = process.Id;
        var pidFile = PidFile(sid);
        File.WriteAllText(pidFile + ".tmp", process.Id.ToString(CultureInfo.InvariantCulture));
        File.Move(pidFile + ".tmp", pidFile, overwrite: true);
        var editor = new LocalEditor(process, port, socket, _time.GetTimestamp()) { Failures = failures };
        _editors[sid] = editor;
        var reason = previousExit is null ? WorkspaceReasons.EditorStarting : WorkspaceReasons.EditorRestarting;
        var message = previousExit is null ? "code-server is starting" : $"code-server exited with code {previousExit}; started again";
        var starting = editor.Listening(new(WorkloadState.Starting, reason, message));
        LogStarted(sid, process.Id, starting.Address!);
        return starting;
    }

    // An editor from an earlier operator run that was not stopped (the operator was killed): it holds the
    // data directory and must go before a new one starts. Only a process whose command line names this
    // workspace's directory is touched.
    private void KillLeftover(string sid)
    {
        // Earlier versions kept the pid inside the workspace's folder; believed only while the workspace's user
        // is the operator's own (a user of its own could write any pid there).
        string[] pidFiles = _accounts.Separate ? [PidFile(sid)] : [PidFile(sid), Path.Combine(DataDirectory(sid), ".code-server", "editor.pid")];
        foreach (var pidFile in pidFiles)
        {
            if (File.Exists(pidFile) && !_editors.ContainsKey(sid)
                && int.TryParse(File.ReadAllText(pidFile), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                if (ProcessGroup.KillLeftover(pid, DataDirectory(sid) + Path.DirectorySeparatorChar))
                {
                    LogKilledLeftover(sid, pid);
                }

                File.Delete(pidFile);
            }
        }
    }

    private static async Task<bool> AnswersAsync(LocalEditor editor, CancellationToken cancellationToken)
    {
        try
        {
            if (editor.Socket is null)
            {
                using var response = await Probe.GetAsync(new Uri($"http://127.0.0.1:{editor.Port}/healthz"), cancellationToken);
                return response.IsSuccessStatusCode;
            }

            using var handler = new SocketsHttpHandler { ConnectCallback = async (_, token) => new NetworkStream(await UnixSocketConnection.ConnectAsync(editor.Socket, token), ownsSocket: true) };
            using var client = new HttpClient(handler) { Timeout = Probe.Timeout };
            using var answer = await client.GetAsync(new Uri("http://editor/healthz"), cancellationToken);
            return answer.IsSuccessStatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private string PidFile(string sid) => Path.Combine(_records, sid + ".pid");

    // The operator's own settings (its API token among them) are not the editor's business: a workspace's
    // terminal runs with code-server's environment.
    private static bool IsOperatorSetting(string variable) =>
        variable.StartsWith("Operator__", StringComparison.OrdinalIgnoreCase) || variable.Equals(OperatorApplication.ConfigFileVariable, StringComparison.Ordinal);

    /// <summary>code-server's output: beside the other workspaces' logs, readable by the operator's user only.</summary>
    internal string LogFile(string sid) => Path.Combine(_records, sid + ".log");

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private sealed record LocalEditor(ProcessGroup Process, int Port, string? Socket, long StartedAt)
    {
        /// <summary>Exits in a row before this start without the editor ever answering in between.</summary>
        public int Failures { get; set; }

        /// <summary>The observation with where the editor listens (its socket, or its loopback port).</summary>
        public WorkloadObservation Listening(WorkloadObservation observation) => Socket is not null
            ? observation with { Socket = Socket }
            : observation with { PodIP = IPAddress.Loopback.ToString(), Port = Port };
    }

    /// <summary>An editor that exited on its own and waits out its restart delay.</summary>
    private sealed record CrashedEditor(int Failures, int? ExitCode, long ExitedAt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Workspace {Sid}: code-server started (pid {Pid}, {ListeningOn})")]
    private partial void LogStarted(string sid, int pid, string listeningOn);

    [LoggerMessage(Level = LogLevel.Information, Message = "Each workspace's editor runs as a user of its own, owning only its folder under {DataRoot}, on a socket no other workspace can reach")]
    private partial void LogSeparateUsers(string dataRoot);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Every workspace's editor runs as {User}, the operator's own user (automatic: {Automatic}): a workspace's terminal can read what that user can, the platform's keys and the other workspaces included. Run the operator as root (./run.sh as root or with sudo) for a user per workspace")]
    private partial void LogSharedUser(string user, bool automatic);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Editors cannot see their workspace at {MountPath} ({Reason}): they open it at its path on this machine, which their address and terminals show")]
    private partial void LogMachinePathsShown(string mountPath, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Workspace {Sid}: code-server exited on its own with code {ExitCode} ({Failures} in a row)")]
    private partial void LogExited(string sid, int exitCode, int failures);

    [LoggerMessage(Level = LogLevel.Information, Message = "Workspace {Sid}: code-server stopped")]
    private partial void LogStopped(string sid);

    [LoggerMessage(Level = LogLevel.Information, Message = "Workspace {Sid}: data directory {Directory} removed")]
    private partial void LogRemovedData(string sid, string directory);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Workspace {Sid}: killed code-server left by an earlier run (pid {Pid})")]
    private partial void LogKilledLeftover(string sid, int pid);
}
