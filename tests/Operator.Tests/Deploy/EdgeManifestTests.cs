namespace Operator.Tests.Deploy;

/// <summary>
/// The gateway as the cluster's edge (TLS ends in it, its Service takes 443 and 80 from outside), and the
/// overlay that keeps an Ingress in front instead, as <c>kubectl kustomize</c> renders them.
/// </summary>
public sealed class EdgeManifestTests
{
    private const string TlsFolder = "/var/run/secrets/cloud-ide/tls";

    [Fact]
    public void The_gateway_serves_https_on_443_from_the_tls_secret_and_the_plain_port_only_redirects()
    {
        var deploy = Manifests.Render();
        var gateway = deploy.Single("Deployment", "gateway");
        var container = gateway.List("spec.template.spec.containers").Single();
        var env = Manifest.Env(container);
        var ports = PortsByName(container);

        Assert.Equal(ports["https"], Port(env["Gateway__Endpoints__Https"]));
        Assert.Equal(ports["http"], Port(env["Gateway__Endpoints__Http"]));
        Assert.False(env.ContainsKey("Gateway__Endpoints__RedirectHttpToHttps"), "the redirect is on by default and must stay on");
        Assert.Equal($"{TlsFolder}/tls.crt", env["Gateway__Tls__Certificates__0__CertificateFile"]);
        Assert.Equal($"{TlsFolder}/tls.key", env["Gateway__Tls__Certificates__0__KeyFile"]);

        // A folder mount, never subPath: the kubelet swaps a renewed Secret in place only in a folder.
        var mount = ((List<object>)Manifest.At(container, "volumeMounts")!).Single(m => Manifest.Str(m, "mountPath") == TlsFolder);
        Assert.Null(Manifest.At(mount, "subPath"));
        var volume = gateway.List("spec.template.spec.volumes").Single(v => Manifest.Str(v, "name") == Manifest.Str(mount, "name"));
        Assert.Equal("gateway-tls", Manifest.Str(volume, "secret.secretName"));

        var service = deploy.Single("Service", "gateway");
        Assert.Equal("LoadBalancer", service.Str("spec.type"));
        var servicePorts = service.List("spec.ports").ToDictionary(p => Manifest.Str(p, "port")!, p => Manifest.Str(p, "targetPort")!);
        Assert.Equal(("https", "http"), (servicePorts["443"], servicePorts["80"]));
        Assert.Equal("443", env["Gateway__Endpoints__HttpsPort"]);

        foreach (var probe in new[] { "startupProbe", "readinessProbe", "livenessProbe" })
        {
            Assert.Equal(("https", "HTTPS"), (Manifest.Str(container, $"{probe}.httpGet.port"), Manifest.Str(container, $"{probe}.httpGet.scheme")));
        }

        Assert.Empty(deploy.OfKind("Ingress"));
    }

    [Fact]
    public void Behind_an_ingress_the_gateway_speaks_plain_http_trusts_the_controller_and_stays_internal()
    {
        var deploy = Manifests.Render(Path.Combine("overlays", "behind-ingress"));
        var gateway = deploy.Single("Deployment", "gateway");
        var container = gateway.List("spec.template.spec.containers").Single();
        var env = Manifest.Env(container);

        Assert.DoesNotContain(env.Keys, key => key.StartsWith("Gateway__Tls__", StringComparison.Ordinal) || key == "Gateway__Endpoints__Https");
        Assert.Equal(PortsByName(container)["http"], Port(env["Gateway__Endpoints__Http"]));
        Assert.True(System.Net.IPNetwork.TryParse(env["Gateway__Forwarding__TrustedProxies__0"], out _));
        Assert.DoesNotContain(gateway.List("spec.template.spec.volumes"), v => Manifest.Str(v, "secret.secretName") == "gateway-tls");
        foreach (var probe in new[] { "startupProbe", "readinessProbe", "livenessProbe" })
        {
            Assert.Equal(("http", "HTTP"), (Manifest.Str(container, $"{probe}.httpGet.port"), Manifest.Str(container, $"{probe}.httpGet.scheme")));
        }

        var service = deploy.Single("Service", "gateway");
        Assert.Equal("ClusterIP", service.Str("spec.type"));
        Assert.Equal(["80"], service.List("spec.ports").Select(p => Manifest.Str(p, "port")!));

        var ingress = deploy.OfKind("Ingress").Single();
        Assert.All(ingress.List("spec.rules"), rule => Assert.Equal("gateway", Manifest.Str(((List<object>)Manifest.At(rule, "http.paths")!)[0], "backend.service.name")));
    }

    private static Dictionary<string, string> PortsByName(object container) =>
        ((List<object>)Manifest.At(container, "ports")!).ToDictionary(p => Manifest.Str(p, "name")!, p => Manifest.Str(p, "containerPort")!);

    private static string Port(string address) => address[(address.LastIndexOf(':') + 1)..];
}
