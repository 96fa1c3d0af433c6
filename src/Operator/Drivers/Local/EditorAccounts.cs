using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Operator.Configuration;

namespace Operator.Drivers.Local;

/// <summary>
/// A workspace's own user on this machine: its editor and terminals run as it, and it owns the workspace's
/// folder alone, and a folder for its editor's socket.
/// </summary>
internal sealed record EditorAccount(uint Uid, string Name, string Home, string SocketFolder)
{
    public string Socket => Path.Combine(SocketFolder, "editor.sock");
}

/// <summary>
/// One user per workspace for the local driver's editors (<see cref="EditorIsolation.Users"/>): a workspace's
/// terminal is a shell of that user, so it can read neither the platform's keys nor another workspace's files.
/// The user is <c>cide&lt;uid&gt;</c>, with a group of the same id, the workspace's folder as its home and no
/// password; created at the first start (a real account, because ssh and git look their user up), removed
/// with the workspace. Which uid belongs to which workspace is written in a root-only folder beside the
/// workspaces (<c>.editors/&lt;sid&gt;.uid</c>), never read from anything the workspace's user can change.
/// </summary>
internal sealed partial class EditorAccounts
{
    /// <summary>rwx------: what the owner alone may read, write and enter.</summary>
    public const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private const string NamePrefix = "cide";
    private const uint RangeSize = 65536;

    private readonly string _records;
    private readonly string _sockets;
    private readonly uint _first;
    private readonly Lock _allocation = new();

    public EditorAccounts(LocalOptions options, string dataRoot, string records)
    {
        _records = records;
        _sockets = SocketsFolder(dataRoot);
        _first = options.FirstEditorUid;
        Separate = AreSeparate(options);
        if (Separate)
        {
            // Others may pass through the data folder to their own workspace and socket, and list nothing on the way.
            foreach (var folder in new[] { dataRoot, _sockets })
            {
                Directory.CreateDirectory(folder);
                SetMode(folder, OwnerOnly | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
            }
        }
    }

    /// <summary>
    /// Where the editors' sockets are, one folder per workspace user named by its uid: a socket's path must fit
    /// 107 bytes, and this one's length does not depend on the sid. Only root creates entries here, so no
    /// workspace can put a socket where another's editor is expected.
    /// </summary>
    public static string SocketsFolder(string dataRoot) => Path.Combine(dataRoot, ".sockets");

    /// <summary>The longest socket path the editors of <paramref name="options"/> get under <paramref name="dataRoot"/>.</summary>
    public static string LongestSocket(string dataRoot, LocalOptions options) =>
        Path.Combine(SocketsFolder(dataRoot), (options.FirstEditorUid + RangeSize - 1).ToString(CultureInfo.InvariantCulture), "editor.sock");

    /// <summary>Whether editors run as users of their own.</summary>
    public bool Separate { get; }

    /// <summary>What <paramref name="options"/> asks for, here: users of their own when asked to, or by default as root.</summary>
    public static bool AreSeparate(LocalOptions options) =>
        options.Isolation == EditorIsolation.Users || (options.Isolation == EditorIsolation.Auto && Environment.IsPrivilegedProcess);

    /// <summary>
    /// The workspace's user, created if need be, and its folder made its own (mode 700). A folder from before
    /// the workspace had a user (written as the operator's user) is handed over whole, without following links.
    /// </summary>
    public EditorAccount Prepare(string sid, string directory)
    {
        lock (_allocation)
        {
            var record = RecordFile(sid);
            var known = TryReadRecord(record, out var uid);
            if (!known)
            {
                uid = Allocate();
            }

            var name = NamePrefix + uid.ToString(CultureInfo.InvariantCulture);
            EnsureUser(uid, name, directory, sid);
            if (!known)
            {
                File.WriteAllText(record + ".tmp", uid.ToString(CultureInfo.InvariantCulture));
                File.Move(record + ".tmp", record, overwrite: true);
            }

            var handOver = !known && Directory.Exists(directory);
            Directory.CreateDirectory(directory);
            if (handOver)
            {
                Run("chown", "-R", "--no-dereference", $"{uid}:{uid}", directory);
            }
            else if (LChown(directory, uid, uid) != 0)
            {
                throw new IOException($"chown {directory}: errno {Marshal.GetLastPInvokeError()}");
            }

            SetMode(directory, OwnerOnly);

            var socketFolder = Path.Combine(_sockets, uid.ToString(CultureInfo.InvariantCulture));
            Directory.CreateDirectory(socketFolder);
            if (LChown(socketFolder, uid, uid) != 0)
            {
                throw new IOException($"chown {socketFolder}: errno {Marshal.GetLastPInvokeError()}");
            }

            SetMode(socketFolder, OwnerOnly);
            return new EditorAccount(uid, name, directory, socketFolder);
        }
    }

    /// <summary>Removes the workspace's user, if it has one (its processes are gone: the editor's group was stopped).</summary>
    public void Remove(string sid)
    {
        lock (_allocation)
        {
            var record = RecordFile(sid);
            if (!TryReadRecord(record, out var uid))
            {
                return;
            }

            var name = NamePrefix + uid.ToString(CultureInfo.InvariantCulture);
            if (PasswdEntries("/etc/passwd").ContainsKey(uid))
            {
                Run("userdel", name);
            }

            if (PasswdEntries("/etc/group").ContainsKey(uid))
            {
                Run("groupdel", name);
            }

            var socketFolder = Path.Combine(_sockets, uid.ToString(CultureInfo.InvariantCulture));
            if (Directory.Exists(socketFolder))
            {
                Directory.Delete(socketFolder, recursive: true);
            }

            File.Delete(record);
        }
    }

    /// <summary>
    /// The first folder on the way to <paramref name="path"/> (or the file itself) that other users cannot pass,
    /// or null: an editor running as its own user must reach its folder and the code-server it runs.
    /// </summary>
    public static string? FirstBarrier(string path, bool file = false)
    {
        var full = Path.GetFullPath(path);
        var current = Path.GetDirectoryName(full);
        while (current is not null)
        {
            if (Directory.Exists(current) && !Mode(current).HasFlag(UnixFileMode.OtherExecute))
            {
                return current;
            }

            current = Path.GetDirectoryName(current);
        }

        return file && File.Exists(full) && !Mode(full).HasFlag(UnixFileMode.OtherRead | UnixFileMode.OtherExecute) ? full : null;
    }

    /// <summary>Sets a file's or folder's mode (the local driver runs on Linux; nothing to do elsewhere).</summary>
    public static void SetMode(string path, UnixFileMode mode)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, mode);
        }
    }

    private static UnixFileMode Mode(string path) =>
        OperatingSystem.IsWindows() ? (UnixFileMode)0x1FF : File.GetUnixFileMode(path);

    private string RecordFile(string sid) => Path.Combine(_records, sid + ".uid");

    private static bool TryReadRecord(string record, out uint uid)
    {
        uid = 0;
        return File.Exists(record) && uint.TryParse(File.ReadAllText(record).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out uid);
    }

    // The lowest id of the range that no workspace holds and that no user or group of the machine has.
    private uint Allocate()
    {
        var taken = new HashSet<uint>(PasswdEntries("/etc/passwd").Keys);
        taken.UnionWith(PasswdEntries("/etc/group").Keys);
        foreach (var record in Directory.EnumerateFiles(_records, "*.uid"))
        {
            if (TryReadRecord(record, out var held))
            {
                taken.Add(held);
            }
        }

        for (var uid = _first; uid < _first + RangeSize; uid++)
        {
            if (!taken.Contains(uid))
            {
                return uid;
            }
        }

        throw new InvalidOperationException($"no free uid left in {_first}..{_first + RangeSize - 1} (Operator:Local:FirstEditorUid)");
    }

    private static void EnsureUser(uint uid, string name, string home, string sid)
    {
        var id = uid.ToString(CultureInfo.InvariantCulture);
        if (!PasswdEntries("/etc/group").TryGetValue(uid, out var groupName))
        {
            Run("groupadd", "--gid", id, name);
        }
        else if (groupName != name)
        {
            throw new InvalidOperationException($"gid {id} belongs to group {groupName}, not to {name}");
        }

        if (PasswdEntries("/etc/passwd").TryGetValue(uid, out var userName))
        {
            if (userName != name)
            {
                throw new InvalidOperationException($"uid {id} belongs to user {userName}, not to {name}");
            }

            return;
        }

        Run("useradd", "--uid", id, "--gid", id, "--no-create-home", "--home-dir", home, "--shell", "/bin/bash", "--no-log-init", "--comment", "cloud-ide workspace " + sid, name);
    }

    /// <summary>id -> name of /etc/passwd or /etc/group.</summary>
    private static Dictionary<uint, string> PasswdEntries(string file)
    {
        var entries = new Dictionary<uint, string>();
        foreach (var line in File.ReadLines(file))
        {
            var fields = line.Split(':');
            if (fields.Length > 2 && uint.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            {
                entries.TryAdd(id, fields[0]);
            }
        }

        return entries;
    }

    private static void Run(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not run {program}");
        var error = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} failed ({process.ExitCode}): {error.Result.Trim()}");
        }
    }

    [LibraryImport("libc", EntryPoint = "lchown", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int LChown(string path, uint owner, uint group);
}
