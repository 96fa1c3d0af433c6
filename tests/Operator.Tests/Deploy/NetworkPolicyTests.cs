using System.Globalization;
using System.Net;

namespace Operator.Tests.Deploy;

/// <summary>
/// The network policies of deploy/ evaluated against the flows that matter: a workspace's shell is hostile,
/// so a workspace pod reaches DNS and the internet and nothing of the platform, no other workspace, no node
/// and no cloud metadata service; only the gateway reaches an editor; only the web API reaches the operator.
/// The platform's pods are those the manifests render, the workspace pod the one the operator creates.
/// </summary>
public sealed class NetworkPolicyTests
{
    private static readonly Manifests Deploy = Manifests.Render();

    private static readonly Dictionary<string, Peer> Pods = PlatformPods();

    private static readonly Peer WorkspaceResource = WorkspacePeer("ws-alice", "10.244.3.10");
    private static readonly Peer OtherWorkspace = WorkspacePeer("ws-bob", "10.244.3.11");
    private static readonly Peer Dns = new("kube-dns", IPAddress.Parse("10.244.0.5"), "kube-system", new Dictionary<string, string> { ["k8s-app"] = "kube-dns" });
    private static readonly Peer Browser = Peer.Outside("a browser", "203.0.113.7");
    private static readonly Peer GitHub = Peer.Outside("github.com", "140.82.112.3");
    private static readonly Peer MailProvider = Peer.Outside("a mail provider", "198.51.100.25");
    private static readonly Peer NpmRegistryIpv6 = Peer.Outside("registry.npmjs.org over IPv6", "2606:4700::6810:1b22");
    private static readonly Peer Metadata = Peer.Outside("the cloud metadata service", "169.254.169.254");
    private static readonly Peer MetadataIpv6 = Peer.Outside("the cloud metadata service over IPv6", "fd00:ec2::254");
    private static readonly Peer Node = Peer.Outside("a node's kubelet", "10.0.0.5");
    private static readonly Peer ApiServer = Peer.Outside("the Kubernetes API server", "10.0.0.2");

    private static readonly NetworkPolicies Policies = new(Deploy, Deploy.OfKind("Namespace").ToDictionary(
        ns => ns.Name,
        ns => (IReadOnlyDictionary<string, string>)new Dictionary<string, string>(ns.Labels()) { ["kubernetes.io/metadata.name"] = ns.Name }));

    public static TheoryData<string, string, int, string> Allowed => new()
    {
        { "a browser", "gateway", 8080, "TCP" },
        { "a browser", "gateway", 8443, "TCP" },
        { "gateway", "ws-alice", 9999, "TCP" },
        { "gateway", "webapi", 8080, "TCP" },
        { "gateway", "redis", 6379, "TCP" },
        { "gateway", "kube-dns", 53, "UDP" },
        { "webapi", "workspace-operator", 8080, "TCP" },
        { "webapi", "postgres", 5432, "TCP" },
        { "webapi", "redis", 6379, "TCP" },
        { "webapi", "kube-dns", 53, "UDP" },
        { "webapi", "a mail provider", 587, "TCP" },
        { "webapi", "a mail provider", 465, "TCP" },
        { "workspace-operator", "redis", 6379, "TCP" },
        { "workspace-operator", "the Kubernetes API server", 6443, "TCP" },
        { "workspace-operator", "the Kubernetes API server", 443, "TCP" },
        { "ws-alice", "kube-dns", 53, "UDP" },
        { "ws-alice", "kube-dns", 53, "TCP" },
        { "ws-alice", "github.com", 443, "TCP" },
        { "ws-alice", "github.com", 22, "TCP" },
        { "ws-alice", "registry.npmjs.org over IPv6", 443, "TCP" },
    };

    public static TheoryData<string, string, int, string> Denied => new()
    {
        // A workspace's shell: nothing of the platform...
        { "ws-alice", "redis", 6379, "TCP" },
        { "ws-alice", "workspace-operator", 8080, "TCP" },
        { "ws-alice", "webapi", 8080, "TCP" },
        { "ws-alice", "gateway", 8080, "TCP" },
        { "ws-alice", "postgres", 5432, "TCP" },
        { "ws-alice", "the Kubernetes API server", 6443, "TCP" },
        { "ws-alice", "a node's kubelet", 10250, "TCP" },
        { "ws-alice", "the cloud metadata service", 80, "TCP" },
        { "ws-alice", "the cloud metadata service over IPv6", 80, "TCP" },

        // ...and no other workspace: not its editor, not its dev servers.
        { "ws-alice", "ws-bob", 9999, "TCP" },
        { "ws-alice", "ws-bob", 3000, "TCP" },
        { "ws-bob", "ws-alice", 9999, "TCP" },

        // The platform's internals are not reachable from outside, nor from each other beyond their needs.
        { "a browser", "webapi", 8080, "TCP" },
        { "a browser", "workspace-operator", 8080, "TCP" },
        { "a browser", "redis", 6379, "TCP" },
        { "a browser", "postgres", 5432, "TCP" },
        { "a browser", "ws-alice", 9999, "TCP" },
        { "gateway", "workspace-operator", 8080, "TCP" },
        { "gateway", "postgres", 5432, "TCP" },
        { "gateway", "ws-alice", 3000, "TCP" },
        { "gateway", "github.com", 443, "TCP" },
        { "webapi", "ws-alice", 9999, "TCP" },
        { "webapi", "github.com", 443, "TCP" },
        { "gateway", "a mail provider", 587, "TCP" },
        { "ws-alice", "ws-bob", 587, "TCP" },
        { "workspace-operator", "ws-alice", 9999, "TCP" },
        { "workspace-operator", "postgres", 5432, "TCP" },
        { "redis", "github.com", 443, "TCP" },
        { "redis", "ws-alice", 9999, "TCP" },
        { "postgres", "github.com", 443, "TCP" },
        { "redis", "webapi", 8080, "TCP" },
    };

    [Theory]
    [MemberData(nameof(Allowed))]
    public void The_flows_the_platform_needs_are_allowed(string from, string to, int port, string protocol) =>
        Assert.True(Policies.Allows(Find(from), Find(to), port, protocol), $"{from} -> {to}:{port}/{protocol} is denied");

    [Theory]
    [MemberData(nameof(Denied))]
    public void Every_other_flow_is_denied(string from, string to, int port, string protocol) =>
        Assert.False(Policies.Allows(Find(from), Find(to), port, protocol), $"{from} -> {to}:{port}/{protocol} is allowed");

    [Fact]
    public void An_editor_on_another_port_is_still_reached_by_the_gateway_alone()
    {
        // The port is the Workspace's spec.port: the policies name the pod's port, not a number.
        var elsewhere = WorkspacePeer("ws-carol", "10.244.3.12", port: 8443);
        Assert.True(Policies.Allows(Pods["gateway"], elsewhere, 8443));
        Assert.False(Policies.Allows(Pods["gateway"], elsewhere, 9999));
        Assert.False(Policies.Allows(WorkspaceResource, elsewhere, 8443));
    }

    [Fact]
    public void Both_namespaces_deny_by_default()
    {
        foreach (var ns in new[] { "cloud-ide", "workspaces" })
        {
            var stranger = new Peer("an unlabelled pod", IPAddress.Parse("10.244.9.9"), ns, new Dictionary<string, string>(), new Dictionary<string, int>());
            Assert.False(Policies.Allows(Browser, stranger, 80), $"ingress to an unlabelled pod in {ns}");
            Assert.False(Policies.Allows(stranger, GitHub, 443), $"egress from an unlabelled pod in {ns}");
        }
    }

    private static Peer Find(string name) =>
        Pods.GetValueOrDefault(name)
        ?? new[] { WorkspaceResource, OtherWorkspace, Dns, Browser, GitHub, MailProvider, NpmRegistryIpv6, Metadata, MetadataIpv6, Node, ApiServer }.Single(peer => peer.Name == name);

    /// <summary>One pod per Deployment and StatefulSet, with its template's labels and named ports.</summary>
    private static Dictionary<string, Peer> PlatformPods()
    {
        var pods = new Dictionary<string, Peer>();
        var host = 10;
        foreach (var workload in Deploy.All.Where(m => m.Kind is "Deployment" or "StatefulSet"))
        {
            var ports = workload.List("spec.template.spec.containers")
                .SelectMany(c => (List<object>?)Manifest.At(c, "ports") ?? [])
                .ToDictionary(p => Manifest.Str(p, "name")!, p => int.Parse(Manifest.Str(p, "containerPort")!, CultureInfo.InvariantCulture));
            pods[workload.Name] = new Peer(workload.Name, IPAddress.Parse($"10.244.1.{host++}"), workload.Namespace, workload.Labels("spec.template.metadata.labels"), ports);
        }

        return pods;
    }

    private static Peer WorkspacePeer(string sid, string address, int port = 9999)
    {
        var pod = WorkspacePods.For(sid, port);
        return new Peer(
            sid,
            IPAddress.Parse(address),
            pod.Metadata.NamespaceProperty,
            pod.Metadata.Labels.ToDictionary(),
            pod.Spec.Containers.SelectMany(c => c.Ports).ToDictionary(p => p.Name, p => p.ContainerPort));
    }
}
