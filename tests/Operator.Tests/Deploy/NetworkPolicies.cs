using System.Globalization;
using System.Net;

namespace Operator.Tests.Deploy;

/// <summary>A pod (with its namespace) or an address outside the cluster, as NetworkPolicy rules see it.</summary>
internal sealed record Peer(string Name, IPAddress Address, string? Namespace = null, IReadOnlyDictionary<string, string>? Labels = null, IReadOnlyDictionary<string, int>? NamedPorts = null)
{
    public bool IsPod => Namespace is not null;

    public static Peer Outside(string name, string address) => new(name, IPAddress.Parse(address));

    public override string ToString() => Name;
}

/// <summary>
/// The NetworkPolicy objects of rendered manifests, evaluated as the API defines them (networking.k8s.io/v1):
/// a pod that no policy of its namespace selects for a direction is open in that direction; once selected,
/// only what some rule of those policies allows passes; a connection needs the sender's egress and the
/// receiver's ingress. Peers by pod and namespace selectors (matchLabels, matchExpressions), by ipBlock
/// with its exceptions (also for pod addresses, as Calico and Cilium apply them), ports by number or by the
/// receiving pod's port name, with endPort ranges.
/// </summary>
internal sealed class NetworkPolicies(Manifests deploy, IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> namespaceLabels)
{
    private readonly List<Manifest> _policies = [.. deploy.OfKind("NetworkPolicy")];

    public bool Allows(Peer from, Peer to, int port, string protocol = "TCP") =>
        Allows(from, to, port, protocol, "Egress") && Allows(from, to, port, protocol, "Ingress");

    private bool Allows(Peer from, Peer to, int port, string protocol, string direction)
    {
        var subject = direction == "Egress" ? from : to;
        var other = direction == "Egress" ? to : from;
        if (!subject.IsPod)
        {
            return true;
        }

        var selecting = _policies
            .Where(policy => policy.Namespace == subject.Namespace && Selects(policy.Map("spec.podSelector"), subject.Labels!))
            .Where(policy => PolicyTypes(policy).Contains(direction))
            .ToList();
        if (selecting.Count == 0)
        {
            return true;
        }

        var rulesKey = direction == "Egress" ? "spec.egress" : "spec.ingress";
        var peersKey = direction == "Egress" ? "to" : "from";
        return selecting.Any(policy => policy.List(rulesKey).Any(rule =>
            PeersMatch(Manifest.At(rule, peersKey) as List<object>, other, policy.Namespace!)
            && PortsMatch(Manifest.At(rule, "ports") as List<object>, to, port, protocol)));
    }

    // Without policyTypes a policy is about Ingress, and about Egress too when it has egress rules.
    private static List<string> PolicyTypes(Manifest policy) =>
        policy.At("spec.policyTypes") is List<object> types
            ? [.. types.Select(t => t.ToString()!)]
            : policy.At("spec.egress") is null ? ["Ingress"] : ["Ingress", "Egress"];

    private bool PeersMatch(List<object>? peers, Peer peer, string policyNamespace) =>
        peers is null || peers.Count == 0 || peers.Any(p => PeerMatches(p, peer, policyNamespace));

    private bool PeerMatches(object rule, Peer peer, string policyNamespace)
    {
        if (Manifest.At(rule, "ipBlock") is { } block)
        {
            return InBlock(peer.Address, Manifest.Str(block, "cidr")!)
                && !((Manifest.At(block, "except") as List<object>) ?? []).Any(except => InBlock(peer.Address, except.ToString()!));
        }

        if (!peer.IsPod)
        {
            return false;
        }

        var namespaceSelector = Manifest.At(rule, "namespaceSelector") as Dictionary<object, object>;
        var podSelector = Manifest.At(rule, "podSelector") as Dictionary<object, object>;
        var namespaceMatches = namespaceSelector is null
            ? peer.Namespace == policyNamespace
            : Selects(namespaceSelector, NamespaceLabels(peer.Namespace!));
        return namespaceMatches && (podSelector is null || Selects(podSelector, peer.Labels!));
    }

    private IReadOnlyDictionary<string, string> NamespaceLabels(string name) =>
        namespaceLabels.TryGetValue(name, out var labels) ? labels : new Dictionary<string, string> { ["kubernetes.io/metadata.name"] = name };

    private static bool PortsMatch(List<object>? ports, Peer receiver, int port, string protocol) =>
        ports is null || ports.Count == 0 || ports.Any(entry =>
        {
            if ((Manifest.Str(entry, "protocol") ?? "TCP") != protocol)
            {
                return false;
            }

            var named = Manifest.Str(entry, "port");
            if (named is null)
            {
                return true;
            }

            if (!int.TryParse(named, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
            {
                // A port name means the receiving pod's container port of that name.
                return receiver.NamedPorts?.TryGetValue(named, out number) == true && number == port;
            }

            var end = Manifest.Str(entry, "endPort") is { } last ? int.Parse(last, CultureInfo.InvariantCulture) : number;
            return port >= number && port <= end;
        });

    public static bool Selects(Dictionary<object, object> selector, IReadOnlyDictionary<string, string> labels)
    {
        if (Manifest.At(selector, "matchLabels") is Dictionary<object, object> matchLabels
            && matchLabels.Any(pair => !labels.TryGetValue(pair.Key.ToString()!, out var value) || value != pair.Value.ToString()))
        {
            return false;
        }

        return ((Manifest.At(selector, "matchExpressions") as List<object>) ?? []).All(expression =>
        {
            var key = Manifest.Str(expression, "key")!;
            var values = ((Manifest.At(expression, "values") as List<object>) ?? []).Select(v => v.ToString()).ToList();
            var has = labels.TryGetValue(key, out var value);
            return Manifest.Str(expression, "operator") switch
            {
                "In" => has && values.Contains(value),
                "NotIn" => !has || !values.Contains(value),
                "Exists" => has,
                "DoesNotExist" => !has,
                var other => throw new InvalidOperationException($"unknown selector operator {other}"),
            };
        });
    }

    private static bool InBlock(IPAddress address, string cidr) =>
        IPNetwork.TryParse(cidr, out var network)
            ? network.Contains(address)
            : throw new InvalidOperationException($"'{cidr}' is no CIDR");
}
