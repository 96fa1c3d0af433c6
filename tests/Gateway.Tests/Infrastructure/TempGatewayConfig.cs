using System.Text.Json.Nodes;

namespace Gateway.Tests.Infrastructure;

/// <summary>A private copy of config/gateway.json that a test edits while a gateway runs on it.</summary>
public sealed class TempGatewayConfig : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"gateway-{Guid.NewGuid():N}.json");

    /// <summary>Writes the shipped settings with <paramref name="edit"/> applied to the <c>Gateway</c> section.</summary>
    public void Write(Action<JsonNode> edit)
    {
        var config = JsonNode.Parse(File.ReadAllText(RepositoryPaths.GatewayConfig))!;
        edit(config["Gateway"]!);
        File.WriteAllText(Path, config.ToJsonString());
    }

    public void Dispose() => File.Delete(Path);
}
