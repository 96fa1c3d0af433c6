namespace Operator.Drivers.Local;

/// <summary>Finds the code-server executable: the configured path, the platform's tools folder, then PATH.</summary>
internal static class CodeServerLocator
{
    // Written by ./run.sh: code-server on the Node 24 installed beside it.
    public const string ToolsPath = ".tools/bin/code-server";

    /// <summary>The executable, or null with the places looked in.</summary>
    public static string? Find(string configured, out string lookedIn)
    {
        if (!string.IsNullOrEmpty(configured))
        {
            lookedIn = configured;
            return File.Exists(configured) ? Path.GetFullPath(configured) : null;
        }

        var candidates = new List<string> { Path.GetFullPath(ToolsPath) };
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            candidates.Add(Path.Combine(directory, "code-server"));
        }

        lookedIn = $"{candidates[0]} and PATH";
        return candidates.FirstOrDefault(File.Exists);
    }
}
