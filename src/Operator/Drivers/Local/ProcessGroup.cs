using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Operator.Drivers.Local;

/// <summary>
/// A program started in a session and process group of its own (<c>setsid</c>), so that stopping it
/// stops everything it spawned: code-server runs its editor, terminals and extension hosts as children.
/// Signals go to the group of the PID we started, never to processes found by name.
/// </summary>
internal sealed partial class ProcessGroup : IDisposable
{
    private const int SigKill = 9;
    private const int SigTerm = 15;

    private readonly Process _process;
    private readonly StreamWriter _log;
    private bool _logClosed;
    private bool _disposed;
    private int? _exitCode;

    private ProcessGroup(Process process, StreamWriter log)
    {
        _process = process;
        _log = log;
    }

    public int Id => _process.Id;

    public bool HasExited => _disposed || _process.HasExited;

    /// <summary>Null while it runs. Kept through <see cref="Dispose"/>: the process object forgets it then.</summary>
    public int? ExitCode => _exitCode ?? (!_disposed && _process.HasExited ? _process.ExitCode : null);

    /// <summary>
    /// Starts <paramref name="executable"/> as the leader of a new group; its output is appended to
    /// <paramref name="logFile"/>; environment variables <paramref name="withheld"/> says yes to are not passed on,
    /// and <paramref name="environment"/> sets or replaces others.
    /// </summary>
    /// <param name="cgroupProcs">
    /// A cgroup's <c>cgroup.procs</c> file the program enters before it runs (<see cref="WorkspaceCgroups"/>), so
    /// that everything it ever starts is in that cgroup; null for none.
    /// </param>
    public static ProcessGroup Start(string executable, IEnumerable<string> arguments, string logFile, Func<string, bool> withheld, IReadOnlyDictionary<string, string>? environment = null, Action? onExit = null, string? cgroupProcs = null)
    {
        // setsid execs the program in place (we are not a group leader), so the PID we get is the group's id.
        var start = new ProcessStartInfo("setsid")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (cgroupProcs is not null)
        {
            // The shell moves itself (the PID we get) into the cgroup, then execs the program in place: nothing
            // runs outside the cgroup, not even for the moment between a start and a move from outside.
            start.ArgumentList.Add("/bin/sh");
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add("echo $$ > \"$0\" 2>/dev/null; exec \"$@\"");
            start.ArgumentList.Add(cgroupProcs);
        }

        start.ArgumentList.Add(executable);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var name in start.Environment.Keys.Where(withheld).ToList())
        {
            start.Environment.Remove(name);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {executable}");
        var log = new StreamWriter(new FileStream(logFile, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
        var group = new ProcessGroup(process, log);
        process.OutputDataReceived += (_, e) => group.Append(e.Data);
        process.ErrorDataReceived += (_, e) => group.Append(e.Data);
        if (onExit is not null)
        {
            process.Exited += (_, _) => onExit();
            process.EnableRaisingEvents = true;
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.StandardInput.Close();
        return group;
    }

    /// <summary>SIGTERM to the whole group, then SIGKILL to what is left after <paramref name="grace"/>.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (!_process.HasExited)
        {
            Signal(-_process.Id, SigTerm);
            using var timeout = new CancellationTokenSource(grace);
            try
            {
                await _process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
            }
        }

        // Children may outlive the leader; the group id stays valid while any member lives.
        Signal(-_process.Id, SigKill);
        if (!_process.HasExited)
        {
            await _process.WaitForExitAsync();
        }
    }

    /// <summary>Kills a group left by an earlier operator run, if its leader is still the program we started.</summary>
    public static bool KillLeftover(int pid, string expectedInCommandLine)
    {
        try
        {
            var commandLine = File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
            if (!commandLine.Contains(expectedInCommandLine, StringComparison.Ordinal))
            {
                return false;
            }
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }

        Signal(-pid, SigKill);
        return true;
    }

    public void Dispose()
    {
        lock (_log)
        {
            _logClosed = true;
            _log.Dispose();
        }

        if (!_disposed && _process.HasExited)
        {
            _exitCode = _process.ExitCode;
        }

        _disposed = true;
        _process.Dispose();
    }

    // Output can arrive after the process exited and while it is being disposed.
    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            if (!_logClosed)
            {
                _log.WriteLine(line);
            }
        }
    }

    /// <summary>SIGKILL to one process (one that left every group it was in).</summary>
    public static void KillProcess(int pid) => Signal(pid, SigKill);

    private static void Signal(int target, int signal) => _ = Kill(target, signal);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
