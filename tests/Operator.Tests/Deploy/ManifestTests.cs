using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using ServiceDefaults.Workspaces;
using WorkspaceOperator.Kubernetes;
using WorkspaceOperator.Workspaces;

namespace WorkspaceOperator.Tests.Deploy;

/// <summary>
/// The Kubernetes manifests cannot be applied here (no cluster); what can go wrong between them is
/// checked instead: names, namespaces, labels, ports, RBAC against the calls the operator makes, the
/// CRD against the C# model, and the ConfigMaps against config/.
/// </summary>
public sealed class ManifestTests
{
    private static readonly Manifests Deploy = Manifests.Load();

    [Fact]
    public void Every_namespaced_object_lives_in_a_namespace_the_manifests_create()
    {
        var namespaces = Deploy.OfKind("Namespace").Select(n => n.Name).ToHashSet();
        Assert.Equal(["cloud-ide", "workspaces"], namespaces.Order());
        foreach (var manifest in Deploy.All.Where(m => m.Kind is not ("Namespace" or "CustomResourceDefinition")))
        {
            Assert.True(manifest.Namespace is not null && namespaces.Contains(manifest.Namespace), $"{manifest} has no namespace the manifests create");
        }
    }

    [Fact]
    public void Deployments_select_their_own_pods_and_services_select_them_on_a_declared_port()
    {
        var deployments = Deploy.OfKind("Deployment").ToList();
        Assert.Equal(["gateway", "workspace-operator"], deployments.Select(d => d.Name).Order());
        foreach (var deployment in deployments)
        {
            var podLabels = deployment.Map("spec.template.metadata.labels");
            foreach (var (key, value) in deployment.Map("spec.selector.matchLabels"))
            {
                Assert.Equal(value, podLabels.GetValueOrDefault(key));
            }

            var service = Deploy.Single("Service", deployment.Name, deployment.Namespace);
            foreach (var (key, value) in service.Map("spec.selector"))
            {
                Assert.Equal(value, podLabels.GetValueOrDefault(key));
            }

            var containerPorts = deployment.List("spec.template.spec.containers")
                .SelectMany(c => (List<object>?)Manifest.At(c, "ports") ?? [])
                .Select(p => Manifest.Str(p, "name"))
                .ToHashSet();
            foreach (var port in service.List("spec.ports"))
            {
                Assert.Contains(Manifest.Str(port, "targetPort"), containerPorts);
            }

            foreach (var container in deployment.List("spec.template.spec.containers"))
            {
                foreach (var probe in new[] { "readinessProbe", "livenessProbe" })
                {
                    Assert.Contains(Manifest.Str(container, $"{probe}.httpGet.port"), containerPorts);
                }
            }
        }
    }

    [Fact]
    public void Config_maps_hold_exactly_the_files_in_config_and_the_deployments_mount_and_name_them()
    {
        foreach (var (deploymentName, file, variable) in new[] { ("gateway", "gateway.json", "GATEWAY_CONFIG"), ("workspace-operator", "operator.json", "OPERATOR_CONFIG") })
        {
            var deployment = Deploy.Single("Deployment", deploymentName);
            var volume = deployment.List("spec.template.spec.volumes").Single();
            var configMap = Deploy.Single("ConfigMap", Manifest.Str(volume, "configMap.name")!, deployment.Namespace);

            var shipped = JsonNode.Parse(File.ReadAllText(Path.Combine(RepositoryPaths.Root, "config", file)));
            var deployed = JsonNode.Parse(configMap.Map("data")[file].ToString()!);
            Assert.True(JsonNode.DeepEquals(shipped, deployed), $"deploy/config.yaml's {file} differs from config/{file}: run deploy/render-config.sh");

            var container = deployment.List("spec.template.spec.containers").Single();
            var mount = ((List<object>)Manifest.At(container, "volumeMounts")!).Single();
            Assert.Equal(Manifest.Str(volume, "name"), Manifest.Str(mount, "name"));
            var env = Env(container);
            Assert.Equal($"{Manifest.Str(mount, "mountPath")}/{file}", env[variable]);
        }
    }

    [Fact]
    public void Operator_rights_are_granted_in_the_workspaces_namespace_to_its_service_account_in_its_own()
    {
        var deployment = Deploy.Single("Deployment", "workspace-operator", "cloud-ide");
        var account = deployment.Str("spec.template.spec.serviceAccountName")!;
        Deploy.Single("ServiceAccount", account, "cloud-ide");
        var env = Env(deployment.List("spec.template.spec.containers").Single());
        var workspacesNs = env["Operator__Namespace"];
        Assert.Equal("Kubernetes", env["Operator__Driver"]);

        // Every call the operator makes, in the namespace it makes it.
        var needed = new (string Ns, ResourceKind Kind, string Subresource, string[] Verbs)[]
        {
            (workspacesNs, Workspace.Resource, "", ["get", "list", "watch", "update", "patch", "create", "delete"]),
            (workspacesNs, Workspace.Resource, "/status", ["update"]),
            (workspacesNs, Workspace.Resource, "/finalizers", ["update"]),
            (workspacesNs, ResourceKind.Pods, "", ["get", "list", "watch", "create", "delete"]),
            (workspacesNs, ResourceKind.PersistentVolumeClaims, "", ["get", "create", "delete"]),
            (deployment.Namespace!, ResourceKind.Leases, "", ["get", "create", "update"]),
        };
        foreach (var (ns, kind, subresource, verbs) in needed)
        {
            foreach (var verb in verbs)
            {
                Assert.True(Allowed(account, "cloud-ide", ns, kind.Group, kind.Plural + subresource, verb), $"{account} may not {verb} {kind.Plural}{subresource} in {ns}");
            }
        }

        // Nothing cluster-wide, and nothing in the namespace of the platform's own secrets beyond its lease.
        Assert.Empty(Deploy.OfKind("ClusterRole"));
        Assert.Empty(Deploy.OfKind("ClusterRoleBinding"));
        Assert.False(Allowed(account, "cloud-ide", "cloud-ide", "", "pods", "create"));
        Assert.False(Allowed(account, "cloud-ide", "cloud-ide", "", "secrets", "get"));
    }

    [Fact]
    public void Role_rules_name_resources_in_the_plural_the_API_uses()
    {
        foreach (var role in Deploy.OfKind("Role"))
        {
            foreach (var rule in role.List("rules"))
            {
                foreach (var resource in (List<object>)Manifest.At(rule, "resources")!)
                {
                    var name = resource.ToString()!.Split('/')[0];
                    Assert.True(name.EndsWith('s') && !name.Any(char.IsUpper), $"{role}: '{resource}' is not a plural resource name");
                }
            }
        }
    }

    [Fact]
    public void The_CRD_matches_the_Workspace_model_the_operator_reads_and_writes()
    {
        var crd = Deploy.Single("CustomResourceDefinition", $"{Workspace.Resource.Plural}.{Workspace.Resource.Group}");
        Assert.Equal(Workspace.Resource.Group, crd.Str("spec.group"));
        Assert.Equal(Workspace.Resource.Kind, crd.Str("spec.names.kind"));
        Assert.Equal(Workspace.Resource.Plural, crd.Str("spec.names.plural"));
        Assert.Equal("Namespaced", crd.Str("spec.scope"));

        var version = crd.List("spec.versions").Single(v => Manifest.Str(v, "name") == Workspace.Resource.Version);
        Assert.Equal("True", Manifest.Str(version, "storage"), ignoreCase: true);
        Assert.NotNull(Manifest.At(version, "subresources.status"));
        Assert.NotEmpty((List<object>)Manifest.At(version, "additionalPrinterColumns")!);

        var schema = Manifest.At(version, "schema.openAPIV3Schema.properties");
        AssertSameFields(typeof(WorkspaceSpec), (Dictionary<object, object>)Manifest.At(schema, "spec.properties")!);
        AssertSameFields(typeof(WorkspaceStatus), (Dictionary<object, object>)Manifest.At(schema, "status.properties")!);
        AssertSameFields(typeof(WorkspaceCondition), (Dictionary<object, object>)Manifest.At(schema, "status.properties.conditions.items.properties")!);

        var states = ((List<object>)Manifest.At(schema, "spec.properties.state.enum")!).Select(s => s.ToString());
        Assert.Equal(Enum.GetNames<DesiredState>(), states);
        var phases = ((List<object>)Manifest.At(schema, "status.properties.phase.enum")!).Select(s => s.ToString());
        Assert.Equal(
            typeof(WorkspacePhase).GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (string)f.GetValue(null)!).Order(),
            phases.Order());

        // The defaults the API server fills in are the model's.
        var defaults = new WorkspaceSpec();
        Assert.Equal(defaults.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), Manifest.Str(schema, "spec.properties.port.default"));
        Assert.Equal(defaults.MountPath, Manifest.Str(schema, "spec.properties.mountPath.default"));
        Assert.Equal(defaults.Storage, Manifest.Str(schema, "spec.properties.storage.default"));
    }

    private static void AssertSameFields(Type model, Dictionary<object, object> schema)
    {
        var modelled = model.GetProperties()
            .Where(p => p.GetCustomAttribute<System.Text.Json.Serialization.JsonExtensionDataAttribute>() is null && p.CanWrite)
            .Select(p => JsonNamingPolicy.CamelCase.ConvertName(p.Name))
            .Order();
        Assert.Equal(modelled, schema.Keys.Select(k => k.ToString()!).Order());
    }

    private static Dictionary<string, string> Env(object container) =>
        ((List<object>)Manifest.At(container, "env")!)
            .Where(e => Manifest.At(e, "value") is not null)
            .ToDictionary(e => Manifest.Str(e, "name")!, e => Manifest.Str(e, "value")!);

    /// <summary>RBAC as the API server evaluates it for namespaced Roles bound by RoleBindings.</summary>
    private static bool Allowed(string account, string accountNs, string ns, string group, string resource, string verb) =>
        Deploy.OfKind("RoleBinding")
            .Where(binding => binding.Namespace == ns)
            .Where(binding => binding.List("subjects").Any(s =>
                Manifest.Str(s, "kind") == "ServiceAccount" && Manifest.Str(s, "name") == account && Manifest.Str(s, "namespace") == accountNs))
            .Select(binding => Deploy.Single(binding.Str("roleRef.kind")!, binding.Str("roleRef.name")!, ns))
            .SelectMany(role => role.List("rules"))
            .Any(rule =>
                ((List<object>)Manifest.At(rule, "apiGroups")!).Select(g => g.ToString()).Contains(group)
                && ((List<object>)Manifest.At(rule, "resources")!).Select(r => r.ToString()).Contains(resource)
                && ((List<object>)Manifest.At(rule, "verbs")!).Select(v => v.ToString()).Contains(verb));
}
