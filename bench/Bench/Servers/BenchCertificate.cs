using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Bench.Servers;

/// <summary>
/// The one certificate every TLS target serves (EC P-256, as cert-manager issues by default and browsers
/// prefer): the same key size and signature for the gateway and nginx, so handshakes compare like for like.
/// </summary>
internal sealed class BenchCertificate
{
    private BenchCertificate(string certificateFile, string keyFile, string thumbprint)
    {
        CertificateFile = certificateFile;
        KeyFile = keyFile;
        Thumbprint = thumbprint;
    }

    public string CertificateFile { get; }

    public string KeyFile { get; }

    public string Thumbprint { get; }

    public static BenchCertificate Write(string directory)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(7));
        var certificateFile = Path.Combine(directory, "tls.crt");
        var keyFile = Path.Combine(directory, "tls.key");
        File.WriteAllText(certificateFile, certificate.ExportCertificatePem());
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem());
        return new BenchCertificate(certificateFile, keyFile, certificate.Thumbprint);
    }

    /// <summary>A handler for the harness's own TLS clients that accepts this certificate and no other.</summary>
    public SocketsHttpHandler Handler() => new()
    {
        UseProxy = false,
        UseCookies = false,
        SslOptions = new System.Net.Security.SslClientAuthenticationOptions
        {
            RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                certificate is not null && string.Equals(certificate.GetCertHashString(), Thumbprint, StringComparison.OrdinalIgnoreCase),
        },
    };
}
