using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;

namespace Operator.Tests.Deploy;

/// <summary>
/// Every pod the platform runs, its own (rendered from deploy/) and the workspaces the operator creates,
/// meets the "restricted" Pod Security Standard that both namespaces enforce: nobody's root, no privilege
/// escalation, no capabilities, the runtime's seccomp profile. The platform's pods also run on a read-only
/// root file system, get no service-account token unless they call the API (the operator), and every
/// container has resource requests and limits.
/// </summary>
public sealed class PodSecurityTests
{
    private static readonly Manifests Deploy = Manifests.Render();

    public static TheoryData<string> Workloads => [.. Deploy.All.Where(m => m.Kind is "Deployment" or "StatefulSet").Select(m => m.Name)];

    [Fact]
    public void Both_namespaces_enforce_the_restricted_profile()
    {
        foreach (var ns in Deploy.OfKind("Namespace"))
        {
            Assert.Equal("restricted", ns.Labels().GetValueOrDefault("pod-security.kubernetes.io/enforce"));
        }
    }

    [Theory]
    [MemberData(nameof(Workloads))]
    public void A_platform_pod_is_restricted_read_only_and_sized(string name)
    {
        var workload = Deploy.All.Single(m => m.Kind is "Deployment" or "StatefulSet" && m.Name == name);
        var pod = ToJson(workload.Map("spec.template.spec"));
        AssertRestricted(name, pod);

        var token = pod["automountServiceAccountToken"]?.GetValue<bool>();
        if (name == "workspace-operator")
        {
            Assert.True(token, "the operator calls the Kubernetes API");
        }
        else
        {
            Assert.False(token ?? true, $"{name} gets a service-account token it does not need");
        }

        foreach (var container in Containers(pod))
        {
            var label = $"{name}/{container["name"]}";
            Assert.True(container["securityContext"]?["readOnlyRootFilesystem"]?.GetValue<bool>(), $"{label}: root file system not read-only");
            foreach (var kind in new[] { "requests", "limits" })
            {
                foreach (var resource in new[] { "cpu", "memory" })
                {
                    Assert.False(container["resources"]?[kind]?[resource] is null, $"{label}: no {resource} {kind[..^1]}");
                }
            }
        }
    }

    [Fact]
    public void A_workspace_pod_is_restricted_sized_and_keeps_its_volume_writable_for_its_user()
    {
        var pod = JsonNode.Parse(KubernetesJson.Serialize(WorkspacePods.For("ws-alice").Spec))!.AsObject();
        AssertRestricted("workspace", pod);
        Assert.False(pod["automountServiceAccountToken"]!.GetValue<bool>());
        Assert.Equal(1000, pod["securityContext"]!["runAsUser"]!.GetValue<long>());
        Assert.Equal(1000, pod["securityContext"]!["fsGroup"]!.GetValue<long>());
        var container = Assert.Single(Containers(pod));
        Assert.Equal(container["resources"]!["requests"]!.ToJsonString(), container["resources"]!["limits"]!.ToJsonString());
    }

    /// <summary>The "restricted" Pod Security Standard (Kubernetes' pod-security admission, latest version).</summary>
    private static void AssertRestricted(string name, JsonObject pod)
    {
        var podContext = pod["securityContext"];
        foreach (var field in new[] { "hostNetwork", "hostPID", "hostIPC" })
        {
            Assert.False(pod[field]?.GetValue<bool>() ?? false, $"{name}: {field}");
        }

        Assert.All(pod["volumes"]?.AsArray() ?? [], volume => Assert.Null(volume!["hostPath"]));
        foreach (var container in Containers(pod))
        {
            var label = $"{name}/{container["name"]}";
            var context = container["securityContext"];
            Assert.True(context?["runAsNonRoot"]?.GetValue<bool>() ?? podContext?["runAsNonRoot"]?.GetValue<bool>(), $"{label}: may run as root");
            Assert.NotEqual(0, context?["runAsUser"]?.GetValue<long>() ?? podContext?["runAsUser"]?.GetValue<long>() ?? -1);
            Assert.False(context?["allowPrivilegeEscalation"]?.GetValue<bool>() ?? true, $"{label}: may escalate privileges");
            Assert.False(context?["privileged"]?.GetValue<bool>() ?? false, $"{label}: privileged");
            var drop = context?["capabilities"]?["drop"]?.AsArray().Select(c => c!.GetValue<string>()) ?? [];
            Assert.Contains("ALL", drop);
            var add = context?["capabilities"]?["add"]?.AsArray().Select(c => c!.GetValue<string>()) ?? [];
            Assert.All(add, capability => Assert.Equal("NET_BIND_SERVICE", capability));
            var seccomp = context?["seccompProfile"]?["type"]?.GetValue<string>() ?? podContext?["seccompProfile"]?["type"]?.GetValue<string>();
            Assert.True(seccomp is "RuntimeDefault" or "Localhost", $"{label}: seccomp profile {seccomp ?? "unset"}");
        }
    }

    private static readonly string[] ContainerLists = ["initContainers", "containers"];

    private static IEnumerable<JsonObject> Containers(JsonObject pod) =>
        ContainerLists.SelectMany(key => pod[key]?.AsArray() ?? []).Select(c => c!.AsObject());

    private static JsonObject ToJson(Dictionary<object, object> yaml) =>
        JsonNode.Parse(JsonSerializer.Serialize(Normalize(yaml)))!.AsObject();

    // YAML scalars arrive as strings; booleans and numbers are what the API server would parse them as.
    private static object? Normalize(object? node) => node switch
    {
        Dictionary<object, object> map => map.ToDictionary(pair => pair.Key.ToString()!, pair => Normalize(pair.Value)),
        List<object> list => list.Select(Normalize).ToList(),
        "true" => true,
        "false" => false,
        string text when long.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var number) => number,
        _ => node,
    };
}
