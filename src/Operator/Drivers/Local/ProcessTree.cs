using System.Globalization;

namespace Operator.Drivers.Local;

/// <summary>A process and everything below it, by parent pid as <c>/proc/&lt;pid&gt;/stat</c> gives it.</summary>
internal static class ProcessTree
{
    /// <summary><paramref name="rootPid"/> first, then its descendants, parents before their children.</summary>
    public static List<int> Of(int rootPid)
    {
        var children = new Dictionary<int, List<int>>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            try
            {
                // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so read after the last ')'.
                var stat = File.ReadAllText(Path.Combine(directory, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                var parent = int.Parse(fields[1], CultureInfo.InvariantCulture);
                if (!children.TryGetValue(parent, out var list))
                {
                    children[parent] = list = [];
                }

                list.Add(pid);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or ArgumentOutOfRangeException)
            {
                // Gone between the listing and the read.
            }
        }

        var all = new List<int> { rootPid };
        for (var i = 0; i < all.Count; i++)
        {
            if (children.TryGetValue(all[i], out var list))
            {
                all.AddRange(list);
            }
        }

        return all;
    }
}
