using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Contracts.Workspaces;
using Operator.Drivers.Kubernetes;
using Operator.Workspaces;

namespace Operator.Tests.Deploy;

/// <summary>
/// The Kubernetes manifests cannot be applied here (no cluster); what <c>kubectl kustomize deploy/</c> renders is
/// checked instead: names, namespaces, labels, ports and probes, the ConfigMaps against config/, the Secrets
/// against deploy/secrets.sh, each program's Redis user and password file, RBAC against the calls the operator
/// makes, the CRD against the C# model, disruption budgets and autoscaling, the single-node overlay, and the
/// Dockerfile's images. Network policies and pod security have tests of their own.
/// </summary>
public sealed class ManifestTests
{
    private static readonly Manifests Deploy = Manifests.Render();

    private static IEnumerable<Manifest> Workloads => Deploy.All.Where(m => m.Kind is "Deployment" or "StatefulSet");

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
    public void The_whole_platform_is_there()
    {
        Assert.Equal(["gateway", "webapi", "workspace-operator"], Deploy.OfKind("Deployment").Select(d => d.Name).Order());
        Assert.Equal(["postgres", "redis"], Deploy.OfKind("StatefulSet").Select(d => d.Name).Order());
        Assert.Equal(
            ["workspace-gateway:dev", "workspace-operator:dev", "workspace-webapi:dev"],
            Deploy.OfKind("Deployment").SelectMany(d => d.List("spec.template.spec.containers")).Select(c => Manifest.Str(c, "image")).Order());
    }

    [Fact]
    public void Workloads_select_their_own_pods_services_select_them_and_probes_use_declared_ports()
    {
        foreach (var workload in Workloads)
        {
            var podLabels = workload.Map("spec.template.metadata.labels");
            foreach (var (key, value) in workload.Map("spec.selector.matchLabels"))
            {
                Assert.Equal(value, podLabels.GetValueOrDefault(key));
            }

            var service = Deploy.Single("Service", workload.Name, workload.Namespace);
            foreach (var (key, value) in service.Map("spec.selector"))
            {
                Assert.Equal(value, podLabels.GetValueOrDefault(key));
            }

            var containerPorts = workload.List("spec.template.spec.containers")
                .SelectMany(c => (List<object>?)Manifest.At(c, "ports") ?? [])
                .Select(p => Manifest.Str(p, "name"))
                .ToHashSet();
            foreach (var port in service.List("spec.ports"))
            {
                Assert.Contains(Manifest.Str(port, "targetPort"), containerPorts);
            }

            var main = workload.List("spec.template.spec.containers")[0];
            foreach (var probe in new[] { "readinessProbe", "livenessProbe" })
            {
                Assert.NotNull(Manifest.At(main, probe));
            }

            foreach (var container in workload.List("spec.template.spec.containers"))
            {
                foreach (var probe in new[] { "startupProbe", "readinessProbe", "livenessProbe" })
                {
                    if ((Manifest.Str(container, $"{probe}.httpGet.port") ?? Manifest.Str(container, $"{probe}.tcpSocket.port")) is { } port)
                    {
                        Assert.Contains(port, containerPorts);
                    }
                }
            }
        }
    }

    [Fact]
    public void Config_maps_are_the_files_in_config_and_each_program_reads_them_where_they_are_mounted()
    {
        foreach (var (deploymentName, files, variables) in new[]
        {
            ("gateway", new[] { "gateway.json" }, new[] { "GATEWAY_CONFIG" }),
            ("workspace-operator", ["operator.json", "editor-settings.json"], ["OPERATOR_CONFIG", "Operator__EditorSettingsFile"]),
            ("webapi", ["webapi.json", "catalog.json"], ["WEBAPI_CONFIG", "WebApi__CatalogFile"]),
        })
        {
            var deployment = Deploy.Single("Deployment", deploymentName);
            var volume = deployment.List("spec.template.spec.volumes").Single(v => Manifest.At(v, "configMap") is not null);
            var configMap = Deploy.Single("ConfigMap", Manifest.Str(volume, "configMap.name")!, deployment.Namespace);
            Assert.Equal(files.Order(), configMap.Map("data").Keys.Select(k => k.ToString()).Order());

            var container = deployment.List("spec.template.spec.containers").Single();
            var mount = ((List<object>)Manifest.At(container, "volumeMounts")!).Single(m => Manifest.Str(m, "name") == Manifest.Str(volume, "name"));
            var env = Manifest.Env(container);
            for (var i = 0; i < files.Length; i++)
            {
                Assert.Equal(File.ReadAllText(Path.Combine(RepositoryPaths.Root, "config", files[i])), configMap.Map("data")[files[i]].ToString());
                Assert.Equal($"{Manifest.Str(mount, "mountPath")}/{files[i]}", env[variables[i]]);
            }
        }

        Assert.Equal(File.ReadAllText(Path.Combine(RepositoryPaths.Root, "config", "redis-users.acl")), Deploy.Single("ConfigMap", "redis-users").Map("data")["redis-users.acl"].ToString());
        Assert.Equal(File.ReadAllText(Path.Combine(RepositoryPaths.Root, "deploy", "base", "redis", "redis-acl.sh")), Deploy.Single("ConfigMap", "redis-acl-script").Map("data")["redis-acl.sh"].ToString());
    }

    [Fact]
    public void Every_secret_the_manifests_read_is_one_deploy_secrets_sh_creates_with_that_key()
    {
        var created = SecretsScript();
        var read = new HashSet<(string, string)>();
        foreach (var workload in Workloads)
        {
            foreach (var container in workload.List("spec.template.spec.containers").Concat(workload.List("spec.template.spec.initContainers")))
            {
                foreach (var variable in (List<object>?)Manifest.At(container, "env") ?? [])
                {
                    if (Manifest.At(variable, "valueFrom.secretKeyRef") is { } reference)
                    {
                        read.Add((Manifest.Str(reference, "name")!, Manifest.Str(reference, "key")!));
                    }
                }
            }

            foreach (var volume in workload.List("spec.template.spec.volumes").Where(v => Manifest.At(v, "secret") is not null))
            {
                var name = Manifest.Str(volume, "secret.secretName")!;
                var items = (List<object>?)Manifest.At(volume, "secret.items");
                foreach (var key in items?.Select(item => Manifest.Str(item, "key")!) ?? created[name])
                {
                    read.Add((name, key));
                }
            }
        }

        foreach (var (name, key) in read)
        {
            Assert.True(created.TryGetValue(name, out var keys) && keys.Contains(key), $"deploy/secrets.sh creates no secret {name} with key {key}");
        }

        Assert.Equal(created.Keys.Order(), read.Select(r => r.Item1).Distinct().Order());
    }

    [Fact]
    public void Each_program_signs_in_to_redis_as_its_own_user_with_its_own_password()
    {
        var users = File.ReadAllLines(Path.Combine(RepositoryPaths.Root, "config", "redis-users.acl"))
            .Where(line => line.StartsWith("user ", StringComparison.Ordinal))
            .Select(line => line.Split(' ')[1])
            .ToHashSet();
        foreach (var (deploymentName, section, user) in new[] { ("gateway", "Gateway", "gateway"), ("workspace-operator", "Operator", "operator"), ("webapi", "WebApi", "webapi") })
        {
            var deployment = Deploy.Single("Deployment", deploymentName);
            var container = deployment.List("spec.template.spec.containers").Single();
            var env = Manifest.Env(container);
            Assert.Equal("redis.cloud-ide.svc:6379", env[$"{section}__Redis__Configuration"]);
            Assert.Equal(user, env[$"{section}__Redis__User"]);
            Assert.Contains(user, users);

            // The password file is the Secret's key of that user, and no other key is mounted.
            var file = env[$"{section}__Redis__PasswordFile"];
            var mount = ((List<object>)Manifest.At(container, "volumeMounts")!).Single(m => file.StartsWith(Manifest.Str(m, "mountPath") + "/", StringComparison.Ordinal));
            var volume = deployment.List("spec.template.spec.volumes").Single(v => Manifest.Str(v, "name") == Manifest.Str(mount, "name"));
            Assert.Equal("redis-users", Manifest.Str(volume, "secret.secretName"));
            var item = Assert.Single((List<object>)Manifest.At(volume, "secret.items")!);
            Assert.Equal(user, Manifest.Str(item, "key"));
            Assert.Equal(Path.GetFileName(file), Manifest.Str(item, "path"));
        }
    }

    [Fact]
    public void Disruptions_leave_a_replica_and_the_gateway_leaves_the_service_before_it_stops_accepting()
    {
        foreach (var deployment in Deploy.OfKind("Deployment"))
        {
            var budget = Deploy.OfKind("PodDisruptionBudget").Single(b => b.Namespace == deployment.Namespace
                && b.Map("spec.selector.matchLabels").All(pair => deployment.Map("spec.template.metadata.labels").GetValueOrDefault(pair.Key)?.Equals(pair.Value) == true));
            Assert.Equal("1", budget.Str("spec.maxUnavailable"));
            Assert.True(int.Parse(deployment.Str("spec.replicas")!, CultureInfo.InvariantCulture) >= 2, $"{deployment}: one replica cannot survive a disruption");
        }

        var autoscaler = Deploy.Single("HorizontalPodAutoscaler", "gateway");
        Assert.Equal("gateway", autoscaler.Str("spec.scaleTargetRef.name"));
        Assert.True(int.Parse(autoscaler.Str("spec.minReplicas")!, CultureInfo.InvariantCulture) >= 2);

        var gateway = Deploy.Single("Deployment", "gateway");
        var container = gateway.List("spec.template.spec.containers").Single();
        var pause = int.Parse(Manifest.Str(container, "lifecycle.preStop.sleep.seconds")!, CultureInfo.InvariantCulture);
        var drain = TimeSpan.Parse(JsonNode.Parse(File.ReadAllText(Path.Combine(RepositoryPaths.Root, "config", "gateway.json")))!["Gateway"]!["Forwarding"]!["ShutdownDrainTimeout"]!.GetValue<string>(), CultureInfo.InvariantCulture);
        Assert.InRange(pause, 5, 30);
        Assert.True(int.Parse(gateway.Str("spec.template.spec.terminationGracePeriodSeconds")!, CultureInfo.InvariantCulture) > pause + drain.TotalSeconds, "the grace period covers the pause and the drain");
        Assert.Equal("0", gateway.Str("spec.strategy.rollingUpdate.maxUnavailable"));
    }

    [Fact]
    public void The_single_node_overlay_runs_one_of_each_from_images_on_the_node()
    {
        var single = Manifests.Render(Path.Combine("overlays", "single-node"));
        Assert.Empty(single.OfKind("HorizontalPodAutoscaler"));
        foreach (var deployment in single.OfKind("Deployment"))
        {
            Assert.Equal("1", deployment.Str("spec.replicas"));
            Assert.Equal("Never", Manifest.Str(deployment.List("spec.template.spec.containers").Single(), "imagePullPolicy"));
        }

        Assert.Equal(Deploy.All.Count - 1, single.All.Count);
    }

    [Fact]
    public void Each_program_has_an_image_that_builds_all_it_references_and_runs_as_a_numeric_non_root_user()
    {
        var dockerfile = File.ReadAllLines(Path.Combine(RepositoryPaths.Root, "Dockerfile"));
        var copied = dockerfile.Where(line => line.StartsWith("COPY src/", StringComparison.Ordinal)).Select(line => line.Split(' ')[1].TrimEnd('/')).ToHashSet();
        foreach (var (stage, project) in new[] { ("gateway", "Gateway"), ("operator", "Operator"), ("webapi", "WebApi") })
        {
            foreach (var needed in ProjectClosure($"src/{project}/{project}.csproj"))
            {
                Assert.Contains(needed, copied);
            }

            var from = Array.FindIndex(dockerfile, line => line.StartsWith("FROM ", StringComparison.Ordinal) && line.EndsWith(" AS " + stage, StringComparison.Ordinal));
            Assert.True(from >= 0, $"the Dockerfile has no stage {stage}");
            var body = dockerfile.Skip(from + 1).TakeWhile(line => !line.StartsWith("FROM ", StringComparison.Ordinal)).ToList();
            Assert.Contains(body, line => line.Trim() == "USER $APP_UID");
            Assert.Contains(body, line => line == $"ENTRYPOINT [\"dotnet\", \"{project}.dll\"]");
        }
    }

    /// <summary>The folders of a project and every project it references, transitively (src/X).</summary>
    private static HashSet<string> ProjectClosure(string project)
    {
        var folders = new HashSet<string>();
        var pending = new Stack<string>([project]);
        while (pending.TryPop(out var current))
        {
            var folder = Path.GetDirectoryName(current)!.Replace('\\', '/');
            if (!folders.Add(folder))
            {
                continue;
            }

            var xml = System.Xml.Linq.XDocument.Load(Path.Combine(RepositoryPaths.Root, current));
            foreach (var reference in xml.Descendants("ProjectReference"))
            {
                var target = Path.GetFullPath(Path.Combine(RepositoryPaths.Root, folder, reference.Attribute("Include")!.Value));
                pending.Push(Path.GetRelativePath(RepositoryPaths.Root, target).Replace('\\', '/'));
            }
        }

        return folders;
    }

    /// <summary>The Secrets and their keys as <c>deploy/secrets.sh --print</c> writes them.</summary>
    private static Dictionary<string, HashSet<string>> SecretsScript()
    {
        var start = new System.Diagnostics.ProcessStartInfo("bash")
        {
            ArgumentList = { Path.Combine(RepositoryPaths.Root, "deploy", "secrets.sh"), "--print" },
            RedirectStandardOutput = true,
        };
        using var process = System.Diagnostics.Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.Equal(0, process.ExitCode);
        var deserializer = new YamlDotNet.Serialization.DeserializerBuilder().Build();
        return output.Split("---\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(document => deserializer.Deserialize<Dictionary<object, object>>(document))
            .ToDictionary(
                secret => Manifest.Str(secret, "metadata.name")!,
                secret => ((Dictionary<object, object>)Manifest.At(secret, "data")!).Keys.Select(k => k.ToString()!).ToHashSet());
    }

    [Fact]
    public void Operator_rights_are_granted_in_the_workspaces_namespace_to_its_service_account_in_its_own()
    {
        var deployment = Deploy.Single("Deployment", "workspace-operator", "cloud-ide");
        var account = deployment.Str("spec.template.spec.serviceAccountName")!;
        Deploy.Single("ServiceAccount", account, "cloud-ide");
        var env = Manifest.Env(deployment.List("spec.template.spec.containers").Single());
        var workspacesNs = env["Operator__Namespace"];
        Assert.Equal("Kubernetes", env["Operator__Driver"]);

        // Every call the operator makes, in the namespace it makes it.
        var needed = new (string Ns, ResourceKind Kind, string Subresource, string[] Verbs)[]
        {
            (workspacesNs, WorkspaceResource.Resource, "", ["get", "list", "watch", "update", "patch", "create", "delete"]),
            (workspacesNs, WorkspaceResource.Resource, "/status", ["update"]),
            (workspacesNs, WorkspaceResource.Resource, "/finalizers", ["update"]),
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
        var crd = Deploy.Single("CustomResourceDefinition", $"{WorkspaceResource.Resource.Plural}.{WorkspaceResource.Resource.Group}");
        Assert.Equal(WorkspaceResource.Resource.Group, crd.Str("spec.group"));
        Assert.Equal(WorkspaceResource.Resource.Kind, crd.Str("spec.names.kind"));
        Assert.Equal(WorkspaceResource.Resource.Plural, crd.Str("spec.names.plural"));
        Assert.Equal("Namespaced", crd.Str("spec.scope"));

        var version = crd.List("spec.versions").Single(v => Manifest.Str(v, "name") == WorkspaceResource.Resource.Version);
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
