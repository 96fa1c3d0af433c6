using System.Diagnostics;

namespace Operator.Drivers.Local;

/// <summary>
/// Where an isolated editor sees its workspace: at the spec's mount path (<c>/user_data</c>, as a Kubernetes
/// workspace sees its volume) in a mount namespace of its own, so neither the editor's address
/// (<c>?folder=/user_data/workspace</c>) nor its terminals show the machine's data folder. Only the editor's
/// processes see the bind; on the machine the mount point stays an empty folder.
/// </summary>
internal sealed class WorkspaceMount
{
    // Runs as root inside the new namespace, then drops to the workspace's user. The source is the workspace's
    // data directory, whose entry sits in a folder only root writes, so the user cannot swap it for a link to
    // somewhere else before the bind follows it. nosuid and nodev: nothing on the user's files raises privilege.
    private const string BindThenRun = "mount --bind -o nosuid,nodev \"$1\" \"$2\" && shift 2 && exec \"$@\"";

    private readonly Lazy<string?> _unavailable = new(ProbeNamespaces);

    /// <summary>
    /// The program and arguments that run <paramref name="command"/> with <paramref name="source"/> bound at
    /// <paramref name="mountPath"/>.
    /// </summary>
    public static (string Executable, List<string> Arguments) Wrap(string source, string mountPath, IEnumerable<string> command) =>
        ("unshare", ["--mount", "--propagation", "private", "--", "/bin/sh", "-c", BindThenRun, "bind", source, mountPath, .. command]);

    /// <summary>
    /// Whether editors can see their workspace at <paramref name="mountPath"/>; otherwise why not (they then see
    /// it at its path on the machine). The mount point is made when missing; one that holds anything is never
    /// covered, so no folder of the machine's own is hidden from an editor that expects it.
    /// </summary>
    public bool TryPrepare(string mountPath, out string reason)
    {
        if (_unavailable.Value is { } unavailable)
        {
            reason = unavailable;
            return false;
        }

        try
        {
            var point = new DirectoryInfo(mountPath);
            if (point.Exists && (point.LinkTarget is not null || point.EnumerateFileSystemInfos().Any()))
            {
                reason = $"{mountPath} is not an empty folder on this machine";
                return false;
            }

            if (File.Exists(mountPath) || (!point.Exists && Path.Exists(mountPath)))
            {
                reason = $"{mountPath} is not a folder on this machine";
                return false;
            }

            Directory.CreateDirectory(mountPath);
            reason = "";
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            reason = $"{mountPath} cannot be made: {ex.Message}";
            return false;
        }
    }

    // A container without CAP_SYS_ADMIN is root and still cannot make a mount namespace: asked once, not assumed.
    private static string? ProbeNamespaces()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            return "the operator is not root";
        }

        try
        {
            var start = new ProcessStartInfo("unshare") { RedirectStandardError = true, UseShellExecute = false };
            foreach (var argument in new[] { "--mount", "--propagation", "private", "--", "/bin/true" })
            {
                start.ArgumentList.Add(argument);
            }

            using var probe = Process.Start(start)!;
            var error = probe.StandardError.ReadToEnd();
            probe.WaitForExit();
            return probe.ExitCode == 0 ? null : $"unshare --mount failed: {error.Trim()}";
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return $"unshare cannot be run: {ex.Message}";
        }
    }
}
