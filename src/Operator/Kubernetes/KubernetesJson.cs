using System.Text.Json;
using System.Text.Json.Serialization;

namespace WorkspaceOperator.Kubernetes;

internal static class KubernetesJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new KubernetesTimeConverter() },
    };
}
