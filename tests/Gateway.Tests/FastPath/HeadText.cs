namespace Gateway.Tests.FastPath;

/// <summary>A head as a failure message shows it: line ends and tabs visible.</summary>
internal static class HeadText
{
    public static string Show(string text) => text.Replace("\r", "\\r", StringComparison.Ordinal)
        .Replace("\n", "\\n", StringComparison.Ordinal).Replace("\t", "\\t", StringComparison.Ordinal);
}
