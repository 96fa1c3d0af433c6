using YamlDotNet.Serialization;

namespace WorkspaceOperator.Kubernetes;

/// <summary>The parts of a kubeconfig file (<c>~/.kube/config</c>) needed to reach one cluster.</summary>
internal sealed class KubeConfigFile
{
    [YamlMember(Alias = "current-context")]
    public string? CurrentContext { get; set; }

    [YamlMember(Alias = "clusters")]
    public List<NamedCluster> Clusters { get; set; } = [];

    [YamlMember(Alias = "users")]
    public List<NamedUser> Users { get; set; } = [];

    [YamlMember(Alias = "contexts")]
    public List<NamedContext> Contexts { get; set; } = [];

    public static KubeConfigFile Parse(string yaml) => new DeserializerBuilder()
        .IgnoreUnmatchedProperties()
        .Build()
        .Deserialize<KubeConfigFile>(yaml) ?? new KubeConfigFile();

    internal sealed class NamedCluster
    {
        [YamlMember(Alias = "name")]
        public string Name { get; set; } = "";

        [YamlMember(Alias = "cluster")]
        public ClusterEntry Cluster { get; set; } = new();
    }

    internal sealed class NamedUser
    {
        [YamlMember(Alias = "name")]
        public string Name { get; set; } = "";

        [YamlMember(Alias = "user")]
        public UserEntry User { get; set; } = new();
    }

    internal sealed class NamedContext
    {
        [YamlMember(Alias = "name")]
        public string Name { get; set; } = "";

        [YamlMember(Alias = "context")]
        public ContextEntry Context { get; set; } = new();
    }

    internal sealed class ClusterEntry
    {
        [YamlMember(Alias = "server")]
        public string? Server { get; set; }

        [YamlMember(Alias = "certificate-authority")]
        public string? CertificateAuthority { get; set; }

        [YamlMember(Alias = "certificate-authority-data")]
        public string? CertificateAuthorityData { get; set; }

        [YamlMember(Alias = "insecure-skip-tls-verify")]
        public bool InsecureSkipTlsVerify { get; set; }
    }

    internal sealed class UserEntry
    {
        [YamlMember(Alias = "token")]
        public string? Token { get; set; }

        [YamlMember(Alias = "tokenFile")]
        public string? TokenFile { get; set; }

        [YamlMember(Alias = "client-certificate")]
        public string? ClientCertificate { get; set; }

        [YamlMember(Alias = "client-certificate-data")]
        public string? ClientCertificateData { get; set; }

        [YamlMember(Alias = "client-key")]
        public string? ClientKey { get; set; }

        [YamlMember(Alias = "client-key-data")]
        public string? ClientKeyData { get; set; }
    }

    internal sealed class ContextEntry
    {
        [YamlMember(Alias = "cluster")]
        public string? Cluster { get; set; }

        [YamlMember(Alias = "user")]
        public string? User { get; set; }

        [YamlMember(Alias = "namespace")]
        public string? Namespace { get; set; }
    }
}
