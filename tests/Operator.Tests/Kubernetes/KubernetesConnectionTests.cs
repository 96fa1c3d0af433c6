using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using WorkspaceOperator.Kubernetes;

namespace WorkspaceOperator.Tests.Kubernetes;

public sealed class KubernetesConnectionTests
{
    [Fact]
    public async Task Kubeconfig_current_context_picks_its_cluster_user_namespace_and_trust()
    {
        var (caPem, clientCertPem, clientKeyPem) = Certificates();
        var yaml = $$"""
            apiVersion: v1
            kind: Config
            current-context: prod
            clusters:
              - name: dev
                cluster: { server: "https://dev.example:6443" }
              - name: prod-cluster
                cluster:
                  server: https://prod.example:6443
                  certificate-authority-data: {{B64(caPem)}}
            users:
              - name: admin
                user:
                  token: abc.def
              - name: robot
                user:
                  client-certificate-data: {{B64(clientCertPem)}}
                  client-key-data: {{B64(clientKeyPem)}}
            contexts:
              - name: dev
                context: { cluster: dev, user: admin }
              - name: prod
                context: { cluster: prod-cluster, user: robot, namespace: ide }
            """;

        var connection = KubernetesConnection.FromKubeConfig(yaml, "/tmp");

        Assert.Equal(new Uri("https://prod.example:6443"), connection.Server);
        Assert.Equal("ide", connection.DefaultNamespace);
        Assert.Single(connection.TrustedRoots!);
        Assert.NotNull(connection.ClientCertificate);
        Assert.True(connection.ClientCertificate!.HasPrivateKey);
        Assert.Null(await connection.Credentials.GetTokenAsync(default));
    }

    [Fact]
    public async Task Kubeconfig_token_and_token_file_are_used_as_bearer_tokens()
    {
        var directory = Directory.CreateTempSubdirectory("kubeconfig");
        try
        {
            File.WriteAllText(Path.Combine(directory.FullName, "token"), "from-file\n");
            var withToken = KubernetesConnection.FromKubeConfig(Config("token: inline-token"), directory.FullName);
            var withFile = KubernetesConnection.FromKubeConfig(Config("tokenFile: token"), directory.FullName);

            Assert.Equal("inline-token", await withToken.Credentials.GetTokenAsync(default));
            Assert.Equal("from-file", await withFile.Credentials.GetTokenAsync(default));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public void Kubeconfig_that_skips_TLS_verification_or_names_a_missing_cluster_is_refused_with_a_reason()
    {
        var insecure = Config("token: t").Replace("server: https://k.example", "server: https://k.example\n      insecure-skip-tls-verify: true", StringComparison.Ordinal);
        var ex = Assert.Throws<InvalidOperationException>(() => KubernetesConnection.FromKubeConfig(insecure, "/tmp"));
        Assert.Contains("insecure-skip-tls-verify", ex.Message, StringComparison.Ordinal);

        var dangling = Config("token: t").Replace("cluster: c, user: u", "cluster: nowhere, user: u", StringComparison.Ordinal);
        ex = Assert.Throws<InvalidOperationException>(() => KubernetesConnection.FromKubeConfig(dangling, "/tmp"));
        Assert.Contains("nowhere", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void No_server_no_service_account_and_no_kubeconfig_says_what_to_do()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => KubernetesConnection.Resolve(null, null, "/nonexistent/kubeconfig"));
        Assert.Contains("Driver=Local", ex.Message, StringComparison.Ordinal);
    }

    private static string Config(string userLine) => $$"""
        current-context: only
        clusters:
          - name: c
            cluster:
              server: https://k.example
        users:
          - name: u
            user:
              {{userLine}}
        contexts:
          - name: only
            context: { cluster: c, user: u }
        """;

    private static string B64(string pem) => Convert.ToBase64String(Encoding.UTF8.GetBytes(pem));

    private static (string Ca, string Cert, string Key) Certificates()
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=test-ca", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));

        using var clientKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var clientRequest = new CertificateRequest("CN=robot", clientKey, HashAlgorithmName.SHA256);
        using var client = clientRequest.Create(ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddHours(12), [1, 2, 3, 4]);
        return (ca.ExportCertificatePem(), client.ExportCertificatePem(), clientKey.ExportPkcs8PrivateKeyPem());
    }
}
