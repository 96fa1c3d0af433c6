using System.Text.Json;

namespace Operator.Workspaces;

/// <summary>
/// The platform's machine settings for every editor (<c>Operator:EditorSettingsFile</c>), on either driver: read
/// and checked once, written into each editor's user data at every start, so a change reaches the editors at
/// their next start and a user's own settings keep winning (VS Code reads machine settings below the user's).
/// </summary>
internal static class EditorSettings
{
    private static readonly JsonDocumentOptions Jsonc = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    /// <summary>Where code-server reads them, under its <c>--user-data-dir</c>.</summary>
    public const string RelativePath = "Machine/settings.json";

    /// <summary>The settings <paramref name="options"/> name, checked at start; null when none are.</summary>
    public static string? Of(Operator.Configuration.OperatorOptions options) =>
        options.EditorSettingsFile.Length > 0 ? TryRead(options.EditorSettingsFile, out _) : null;

    /// <summary>The file's text when it is a JSON object of settings; otherwise null and why.</summary>
    public static string? TryRead(string path, out string problem)
    {
        problem = "";
        try
        {
            var text = File.ReadAllText(path);
            using var document = JsonDocument.Parse(text, Jsonc);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                problem = $"{path} must hold one JSON object of VS Code settings";
                return null;
            }

            return text;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException)
        {
            problem = $"{path} cannot be read as VS Code settings: {ex.Message}";
            return null;
        }
    }
}
