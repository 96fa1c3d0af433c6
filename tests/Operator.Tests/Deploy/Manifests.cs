using System.Diagnostics;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;

namespace Operator.Tests.Deploy;

/// <summary>
/// What <c>kubectl kustomize</c> renders from a folder of deploy/ (what <c>kubectl apply -k</c> would send the
/// cluster), every document parsed, with a few path accessors.
/// </summary>
internal sealed class Manifests
{
    private Manifests(List<Manifest> all) => All = all;

    public List<Manifest> All { get; }

    /// <summary>The objects <c>kubectl kustomize deploy/&lt;folder&gt;</c> renders.</summary>
    public static Manifests Render(string folder = "")
    {
        var start = new ProcessStartInfo("kubectl")
        {
            ArgumentList = { "kustomize", Path.Combine(RepositoryPaths.Root, "deploy", folder) },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException("kubectl (1.21 or later, for its built-in kustomize) is needed to render deploy/: apt-get install -y kubectl", ex);
        }

        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"kubectl kustomize deploy/{folder} failed: {error}");
            }

            var deserializer = new DeserializerBuilder().Build();
            var all = new List<Manifest>();
            var parser = new Parser(new StringReader(output.Result));
            parser.Consume<StreamStart>();
            while (parser.Accept<DocumentStart>(out _))
            {
                if (deserializer.Deserialize<Dictionary<object, object>>(parser) is { } document)
                {
                    all.Add(new Manifest($"deploy/{folder}", document));
                }
            }

            return new Manifests(all);
        }
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

    /// <summary>Labels of <c>metadata.labels</c>, as strings.</summary>
    public Dictionary<string, string> Labels(string path = "metadata.labels") =>
        Map(path).ToDictionary(pair => pair.Key.ToString()!, pair => pair.Value.ToString()!);

    public static object? At(object? node, string path)
    {
        foreach (var key in path.Split('.'))
        {
            node = node is Dictionary<object, object> map && map.TryGetValue(key, out var next) ? next : null;
        }

        return node;
    }

    public static string? Str(object? node, string path) => At(node, path)?.ToString();

    /// <summary>A container's environment variables that have a value (not those read from a Secret).</summary>
    public static Dictionary<string, string> Env(object container) =>
        ((List<object>?)At(container, "env") ?? [])
            .Where(e => At(e, "value") is not null)
            .ToDictionary(e => Str(e, "name")!, e => Str(e, "value")!);

    public override string ToString() => $"{File}: {Kind} {Namespace}/{Name}";
}
