using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;

namespace WorkspaceOperator.Tests.Deploy;

/// <summary>Every document of every file in deploy/, parsed, with a few path accessors.</summary>
internal sealed class Manifests
{
    private Manifests(List<Manifest> all) => All = all;

    public List<Manifest> All { get; }

    public static Manifests Load()
    {
        var deserializer = new DeserializerBuilder().Build();
        var all = new List<Manifest>();
        foreach (var file in Directory.GetFiles(Path.Combine(RepositoryPaths.Root, "deploy"), "*.yaml").Order(StringComparer.Ordinal))
        {
            using var reader = new StreamReader(file);
            var parser = new Parser(reader);
            parser.Consume<StreamStart>();
            while (parser.Accept<DocumentStart>(out _))
            {
                if (deserializer.Deserialize<Dictionary<object, object>>(parser) is { } document)
                {
                    all.Add(new Manifest(Path.GetFileName(file), document));
                }
            }
        }

        return new Manifests(all);
    }

    public IEnumerable<Manifest> OfKind(string kind) => All.Where(m => m.Kind == kind);

    public Manifest Single(string kind, string name, string? ns = null) =>
        All.SingleOrDefault(m => m.Kind == kind && m.Name == name && (ns is null || m.Namespace == ns))
        ?? throw new Xunit.Sdk.XunitException($"deploy/ has no {kind} {ns}/{name}");
}

internal sealed record Manifest(string File, Dictionary<object, object> Root)
{
    public string Kind => Str("kind")!;

    public string Name => Str("metadata.name")!;

    public string? Namespace => Str("metadata.namespace");

    public object? At(string path) => At(Root, path);

    public string? Str(string path) => At(path)?.ToString();

    public Dictionary<object, object> Map(string path) => (Dictionary<object, object>?)At(path) ?? [];

    public List<object> List(string path) => (List<object>?)At(path) ?? [];

    public static object? At(object? node, string path)
    {
        foreach (var key in path.Split('.'))
        {
            node = node is Dictionary<object, object> map && map.TryGetValue(key, out var next) ? next : null;
        }

        return node;
    }

    public static string? Str(object? node, string path) => At(node, path)?.ToString();

    public override string ToString() => $"{File}: {Kind} {Namespace}/{Name}";
}
