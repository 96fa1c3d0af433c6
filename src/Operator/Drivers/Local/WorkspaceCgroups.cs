using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Operator.Drivers.Local;

/// <summary>
/// A cgroup (v2) per workspace, which its editor enters before it runs: whatever the workspace's user starts
/// from a terminal lands there too, and stays there whatever it does to its process group or session
/// (<c>setsid</c>, <c>nohup … &amp;</c>, a double fork). Stopping the workspace writes <c>cgroup.kill</c>
/// (Linux 5.14), which ends every process in it; the process group is still signalled first, so that the
/// editor gets its SIGTERM and grace. Where no cgroup can be made (no cgroup2 file system, or an operator that
/// is not root), the process group is all there is, and a process that left it survives the stop: said once
/// at start.
/// </summary>
internal sealed partial class WorkspaceCgroups
{
    private static readonly TimeSpan EmptyWithin = TimeSpan.FromSeconds(5);

    private readonly string? _root;

    public WorkspaceCgroups(string dataDirectory, ILogger logger)
    {
        _root = TryCreateRoot(dataDirectory, out var reason);
        if (_root is null)
        {
            LogUnavailable(logger, reason);
        }
        else
        {
            LogAvailable(logger, _root);
        }
    }

    /// <summary>Whether workspaces get cgroups here.</summary>
    public bool Available => _root is not null;

    /// <summary>
    /// The workspace's cgroup, made empty (processes an earlier operator run left there are ended): the
    /// <c>cgroup.procs</c> file its editor writes itself into before it execs, or null without cgroups.
    /// </summary>
    public string? Prepare(string sid)
    {
        if (_root is null)
        {
            return null;
        }

        var group = Path.Combine(_root, sid);
        try
        {
            Directory.CreateDirectory(group);
            Empty(group);

            return Path.Combine(group, "cgroup.procs");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Ends every process left in the workspace's cgroup and removes it; nothing without cgroups.</summary>
    public async Task EndAsync(string sid)
    {
        if (_root is null)
        {
            return;
        }

        var group = Path.Combine(_root, sid);
        if (!Directory.Exists(group))
        {
            return;
        }

        try
        {
            // Off the caller's thread: a group that resists (a process in uninterruptible sleep) is waited for.
            await Task.Run(() => Empty(group));

            // A cgroup with no process left is removed with rmdir (its files cannot be deleted one by one).
            Directory.Delete(group);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Still busy (a process in uninterruptible sleep): the next stop or start tries again.
        }
    }

    /// <summary>Removes the operator's own cgroup when no workspace's is left in it (the operator is stopping).</summary>
    public void RemoveRootIfEmpty()
    {
        if (_root is null)
        {
            return;
        }

        try
        {
            if (!Directory.EnumerateDirectories(_root).Any())
            {
                Directory.Delete(_root);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // In use again, or gone: either way nothing is left behind by this run.
        }
    }

    private static bool Populated(string group) =>
        File.ReadLines(Path.Combine(group, "cgroup.events")).Any(line => line == "populated 1");

    private static void KillAll(string group)
    {
        var kill = Path.Combine(group, "cgroup.kill");
        if (File.Exists(kill))
        {
            File.WriteAllText(kill, "1");
            return;
        }

        // Before Linux 5.14: each process by its pid, again until none is left (a fork may race the first pass).
        foreach (var line in File.ReadLines(Path.Combine(group, "cgroup.procs")))
        {
            if (int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                ProcessGroup.KillProcess(pid);
            }
        }
    }

    /// <summary>Kills what is in the group until it is empty, for at most <see cref="EmptyWithin"/> (a fork may race a kill).</summary>
    private static void Empty(string group)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (Populated(group) && clock.Elapsed < EmptyWithin)
        {
            KillAll(group);
            Thread.Sleep(20);
        }
    }

    /// <summary>
    /// <c>&lt;cgroup2 mount&gt;&lt;the operator's own cgroup&gt;/cloud-ide-&lt;hash of the data folder&gt;</c>: below
    /// the operator's own, where its user may make groups, and one per data folder, so that two operators on
    /// one machine (tests run several) never end each other's workspaces.
    /// </summary>
    private static string? TryCreateRoot(string dataDirectory, out string reason)
    {
        var mount = File.ReadLines("/proc/self/mountinfo")
            .Select(line => line.Split(" - ", 2))
            .Where(parts => parts.Length == 2 && parts[1].StartsWith("cgroup2 ", StringComparison.Ordinal))
            .Select(parts => parts[0].Split(' ')[4])
            .FirstOrDefault();
        var own = File.ReadLines("/proc/self/cgroup").FirstOrDefault(line => line.StartsWith("0::", StringComparison.Ordinal))?[3..];
        if (mount is null || own is null)
        {
            reason = "this machine has no cgroup2 file system";
            return null;
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Path.GetFullPath(dataDirectory))))[..12];
        var root = Path.Combine(mount + own.TrimEnd('/'), "cloud-ide-" + hash);
        try
        {
            Directory.CreateDirectory(root);
            reason = "";
            return root;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            reason = $"{root} cannot be made ({ex.Message})";
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Each workspace's processes are kept in a cgroup of its own under {Root}: stopping it ends everything it started")]
    private static partial void LogAvailable(ILogger logger, string root);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No cgroup per workspace: {Reason}. Stopping a workspace ends its editor's process group; a process its user moved out of that group (setsid, a daemon) survives the stop")]
    private static partial void LogUnavailable(ILogger logger, string reason);
}
