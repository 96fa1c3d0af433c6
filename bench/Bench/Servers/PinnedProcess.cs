using System.Diagnostics;
using System.Globalization;

namespace Bench.Servers;

/// <summary>
/// A server started on the servers' core with <c>taskset</c>, its output in a log file, stopped by PID.
/// Every server runs on one core so the figures measure server CPU per request.
/// </summary>
internal sealed class PinnedProcess : IDisposable
{
    private readonly Process _process;

    private PinnedProcess(string name, Process process, string logFile)
    {
        Name = name;
        _process = process;
        LogFile = logFile;
    }

    public string Name { get; }

    public string LogFile { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public static PinnedProcess Start(string name, int core, string logDirectory, string executable, IEnumerable<string> arguments, IDictionary<string, string>? environment = null)
    {
        var logFile = Path.Combine(logDirectory, name + ".log");
        // The idle-connection scenario holds thousands of sockets on each side of every proxy.
        var command = $"ulimit -n \"$(ulimit -Hn)\"; exec taskset -c {core} {Quote(executable)} {string.Join(' ', arguments.Select(Quote))} >> {Quote(logFile)} 2>&1";
        var start = new ProcessStartInfo("bash", ["-c", command]) { UseShellExecute = false };

        // The generator's own tuning must not leak into the servers it measures.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("DOTNET_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(key);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"{name} did not start");
        return new PinnedProcess(name, process, logFile);
    }

    /// <summary>Resident memory in bytes, from /proc.</summary>
    public long ResidentBytes()
    {
        foreach (var line in File.ReadLines($"/proc/{Pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                var kb = line["VmRSS:".Length..].Trim().Split(' ')[0];
                return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
            }
        }

        return 0;
    }

    /// <summary>User + system CPU time so far, from /proc (clock ticks are 1/100 s on Linux).</summary>
    public TimeSpan CpuTime()
    {
        // Fields after the parenthesised command name; utime and stime are fields 14 and 15 of the whole line.
        var stat = File.ReadAllText($"/proc/{Pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromMilliseconds(ticks * 10);
    }

    /// <summary>Sends a signal by name (KILL, TERM, STOP, CONT), as an operator or the kernel would.</summary>
    public void Signal(string name)
    {
        using var kill = Process.Start("kill", ["-" + name, Pid.ToString(CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    public Task WaitForExitAsync(CancellationToken cancellationToken) => _process.WaitForExitAsync(cancellationToken);

    /// <summary>Threads, open descriptors and, of those, sockets: what a leak grows (from /proc).</summary>
    public (int Threads, int Descriptors, HashSet<long> SocketInodes) Handles()
    {
        var threads = Directory.GetDirectories($"/proc/{Pid}/task").Length;
        var inodes = new HashSet<long>();
        var descriptors = 0;
        foreach (var fd in Directory.EnumerateFileSystemEntries($"/proc/{Pid}/fd"))
        {
            descriptors++;
            var target = new FileInfo(fd).LinkTarget;
            if (target is not null && target.StartsWith("socket:[", StringComparison.Ordinal)
                && long.TryParse(target.AsSpan(8, target.Length - 9), CultureInfo.InvariantCulture, out var inode))
            {
                inodes.Add(inode);
            }
        }

        return (threads, descriptors, inodes);
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            using (var term = Process.Start("kill", ["-TERM", Pid.ToString(CultureInfo.InvariantCulture)]))
            {
                term.WaitForExit();
            }

            if (!_process.WaitForExit(5000))
            {
                _process.Kill();
                _process.WaitForExit(5000);
            }
        }

        _process.Dispose();
    }

    private static string Quote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
