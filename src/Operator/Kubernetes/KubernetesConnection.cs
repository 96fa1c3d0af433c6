using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace WorkspaceOperator.Kubernetes;

/// <summary>How to reach the API server: address, trust, and credentials.</summary>
public sealed record KubernetesConnection(Uri Server, KubernetesCredentials Credentials, X509Certificate2Collection? TrustedRoots, X509Certificate2? ClientCertificate, string? DefaultNamespace)
{
    private const string ServiceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount";

    /// <summary>
    /// An explicit server (tests, <c>kubectl proxy</c>), else the kubeconfig file named or found in
    /// <c>KUBECONFIG</c>/<c>~/.kube/config</c>, else the pod's service account.
    /// </summary>
    public static KubernetesConnection Resolve(string? server, string? token, string? kubeConfigPath)
    {
        if (!string.IsNullOrEmpty(server))
        {
            return new(new Uri(server), string.IsNullOrEmpty(token) ? KubernetesCredentials.None : KubernetesCredentials.FromToken(token), null, null, null);
        }

        var inCluster = Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_HOST");
        if (string.IsNullOrEmpty(kubeConfigPath) && !string.IsNullOrEmpty(inCluster) && File.Exists(Path.Combine(ServiceAccountDirectory, "token")))
        {
            return InCluster(inCluster, Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_PORT") ?? "443");
        }

        var path = !string.IsNullOrEmpty(kubeConfigPath)
            ? kubeConfigPath
            : Environment.GetEnvironmentVariable("KUBECONFIG")?.Split(':', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault()
              ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".kube", "config");
        if (!File.Exists(path))
        {
            throw new InvalidOperationException(
                $"No Kubernetes API to talk to: not in a pod (no service account), and no kubeconfig at {path}. Set Operator:Kubernetes:KubeConfig, or use Operator:Driver=Local on one machine.");
        }

        return FromKubeConfig(File.ReadAllText(path), Path.GetDirectoryName(Path.GetFullPath(path))!);
    }

    public static KubernetesConnection FromKubeConfig(string yaml, string baseDirectory)
    {
        var config = KubeConfigFile.Parse(yaml);
        var contextName = config.CurrentContext ?? config.Contexts.FirstOrDefault()?.Name
            ?? throw new InvalidOperationException("kubeconfig has no context");
        var context = config.Contexts.FirstOrDefault(c => c.Name == contextName)?.Context
            ?? throw new InvalidOperationException($"kubeconfig has no context named '{contextName}'");
        var cluster = config.Clusters.FirstOrDefault(c => c.Name == context.Cluster)?.Cluster
            ?? throw new InvalidOperationException($"kubeconfig context '{contextName}' names cluster '{context.Cluster}', which it does not define");
        var user = config.Users.FirstOrDefault(u => u.Name == context.User)?.User ?? new KubeConfigFile.UserEntry();
        if (string.IsNullOrEmpty(cluster.Server))
        {
            throw new InvalidOperationException($"kubeconfig cluster '{context.Cluster}' has no server");
        }

        var roots = ReadPem(cluster.CertificateAuthorityData, cluster.CertificateAuthority, baseDirectory) is { } caPem
            ? LoadRoots(caPem)
            : null;
        X509Certificate2? clientCertificate = null;
        if (ReadPem(user.ClientCertificateData, user.ClientCertificate, baseDirectory) is { } certPem
            && ReadPem(user.ClientKeyData, user.ClientKey, baseDirectory) is { } keyPem)
        {
            clientCertificate = X509Certificate2.CreateFromPem(certPem, keyPem);
        }

        var credentials = !string.IsNullOrEmpty(user.Token) ? KubernetesCredentials.FromToken(user.Token)
            : !string.IsNullOrEmpty(user.TokenFile) ? KubernetesCredentials.FromFile(Path.Combine(baseDirectory, user.TokenFile))
            : KubernetesCredentials.None;
        // The operator holds rights over every workspace pod; it does not talk to an unverified server.
        if (cluster.InsecureSkipTlsVerify)
        {
            throw new InvalidOperationException($"kubeconfig cluster '{context.Cluster}' sets insecure-skip-tls-verify, which the operator refuses: give its certificate-authority instead");
        }

        return new(new Uri(cluster.Server), credentials, roots, clientCertificate, context.Namespace);
    }

    private static KubernetesConnection InCluster(string host, string port)
    {
        var hostPart = host.Contains(':', StringComparison.Ordinal) ? $"[{host}]" : host;
        var roots = LoadRoots(File.ReadAllText(Path.Combine(ServiceAccountDirectory, "ca.crt")));
        var ns = File.Exists(Path.Combine(ServiceAccountDirectory, "namespace"))
            ? File.ReadAllText(Path.Combine(ServiceAccountDirectory, "namespace")).Trim()
            : null;
        return new(new Uri($"https://{hostPart}:{port}"), KubernetesCredentials.FromFile(Path.Combine(ServiceAccountDirectory, "token")), roots, null, ns);
    }

    /// <summary>An HttpClient for this server: trusts only its CA (when given), presents the client certificate.</summary>
    public HttpClient CreateHttpClient()
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = TimeSpan.FromSeconds(10),
        };
        if (ClientCertificate is not null)
        {
            handler.SslOptions.ClientCertificates = [ClientCertificate];
        }

        if (TrustedRoots is { Count: > 0 } roots)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                ValidateAgainst(roots, certificate as X509Certificate2, errors);
        }

        // Watches stay open for minutes; each call brings its own cancellation instead.
        return new HttpClient(handler) { BaseAddress = new Uri(Server.ToString().TrimEnd('/') + "/"), Timeout = Timeout.InfiniteTimeSpan };
    }

    private static bool ValidateAgainst(X509Certificate2Collection roots, X509Certificate2? certificate, SslPolicyErrors errors)
    {
        if (certificate is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }

    private static X509Certificate2Collection LoadRoots(string pem)
    {
        var roots = new X509Certificate2Collection();
        roots.ImportFromPem(pem);
        return roots;
    }

    private static string? ReadPem(string? base64Data, string? file, string baseDirectory) =>
        !string.IsNullOrEmpty(base64Data) ? Encoding.UTF8.GetString(Convert.FromBase64String(base64Data))
        : !string.IsNullOrEmpty(file) ? File.ReadAllText(Path.Combine(baseDirectory, file))
        : null;
}
