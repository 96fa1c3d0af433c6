using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Operator.Configuration;
using Operator.Drivers.Kubernetes;

namespace Operator.Tests.Drivers.Kubernetes;

/// <summary>Kubeconfig files as the official client loads them, and the operator's own refusals on top.</summary>
public sealed class KubernetesConfigurationTests : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("kubeconfig");

    public void Dispose() => _directory.Delete(recursive: true);

    [Fact]
    public void The_current_context_picks_its_cluster_user_namespace_and_trust()
    {
        var (caPem, clientCertPem, clientKeyPem) = Certificates();
        var configuration = Load($$"""
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
            """);

        Assert.Equal("https://prod.example:6443", configuration.Host.TrimEnd('/'));
        Assert.Equal("ide", configuration.Namespace);
        Assert.Single(configuration.SslCaCerts);
        Assert.False(string.IsNullOrEmpty(configuration.ClientCertificateData));
        Assert.False(string.IsNullOrEmpty(configuration.ClientCertificateKeyData));
        Assert.Null(configuration.AccessToken);
    }

    [Fact]
    public async Task A_token_and_an_exec_credential_plugin_become_bearer_tokens()
    {
        Assert.Equal("inline-token", Load(Config("token: inline-token")).AccessToken);

        // What cloud clusters use (aws eks get-token, gke-gcloud-auth-plugin), which the old hand-written
        // loader could not run: a command that prints an ExecCredential.
        var credential = Path.Combine(_directory.FullName, "credential.json");
        File.WriteAllText(credential, """{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"from-exec"}}""");
        var plugin = Load(Config($$"""
            exec:
                    apiVersion: client.authentication.k8s.io/v1
                    command: /bin/cat
                    args: ["{{credential}}"]
            """));
        var header = await plugin.TokenProvider!.GetAuthenticationHeaderAsync(CancellationToken.None);
        Assert.Equal("from-exec", header.Parameter);
    }

    [Fact]
    public void A_kubeconfig_that_skips_TLS_verification_is_refused_with_the_reason()
    {
        var insecure = Config("token: t").Replace("server: https://k.example", "server: https://k.example\n      insecure-skip-tls-verify: true", StringComparison.Ordinal);
        var ex = Assert.Throws<InvalidOperationException>(() => Load(insecure));
        Assert.Contains("insecure-skip-tls-verify", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void No_server_no_service_account_and_no_kubeconfig_says_what_to_do()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => KubernetesConfiguration.Load(new KubernetesOptions { KubeConfig = "/nonexistent/kubeconfig" }));
        Assert.Contains("Driver=Local", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_explicit_server_and_token_win_over_any_kubeconfig()
    {
        var configuration = KubernetesConfiguration.Load(new KubernetesOptions { Server = "http://127.0.0.1:8001", Token = "t0", KubeConfig = "/nonexistent/kubeconfig" });
        Assert.Equal("http://127.0.0.1:8001", configuration.Host.TrimEnd('/'));
        Assert.Equal("t0", configuration.AccessToken);
    }

    private k8s.KubernetesClientConfiguration Load(string yaml)
    {
        var path = Path.Combine(_directory.FullName, "config-" + Guid.NewGuid().ToString("N"));
        File.WriteAllText(path, yaml);
        return KubernetesConfiguration.Load(new KubernetesOptions { KubeConfig = path });
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
