using System.Text.Json;
using System.Text.Json.Nodes;

namespace Operator.Drivers.Local;

/// <summary>
/// Keeps one <see cref="ObjectTable"/> in a JSON file, so the one-machine platform remembers its
/// workspaces across restarts. Written to a temporary file and renamed: a crash mid-write leaves the
/// previous version, never half a file.
/// </summary>
public sealed class LocalObjectFile
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private readonly string _path;
    private readonly object _writeGate = new();

    private LocalObjectFile(string path) => _path = path;

    public static void Attach(ObjectTable table, string path)
    {
        var file = new LocalObjectFile(path);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        if (File.Exists(path))
        {
            var items = JsonNode.Parse(File.ReadAllText(path)) as JsonArray
                ?? throw new InvalidDataException($"{path} is not a JSON array of objects");
            table.Load(items.OfType<JsonObject>());
        }

        table.Changed += file.Write;
    }

    private void Write(IReadOnlyList<JsonObject> objects)
    {
        lock (_writeGate)
        {
            var temporary = _path + ".tmp";
            File.WriteAllText(temporary, new JsonArray([.. objects]).ToJsonString(Indented));
            File.Move(temporary, _path, overwrite: true);
        }
    }
}
