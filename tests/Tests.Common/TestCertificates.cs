using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Tests.Common;

/// <summary>A certificate file pair as the gateway reads it, and the certificate written there.</summary>
public sealed record CertificatePair(string CertificateFile, string KeyFile, X509Certificate2 Certificate)
{
    /// <summary>The gateway settings serving this pair as certificate <paramref name="index"/>.</summary>
    public string[] Settings(int index) =>
    [
        $"--Gateway:Tls:Certificates:{index}:CertificateFile={CertificateFile}",
        $"--Gateway:Tls:Certificates:{index}:KeyFile={KeyFile}",
    ];
}

/// <summary>
/// A private certificate authority made for one test run, and server certificates it issues as PEM files in
/// a folder of their own (what a Kubernetes TLS Secret mounts). Clients trust the authority and nothing else,
/// and check the host name as a browser would.
/// </summary>
public sealed class TestCertificates : IDisposable
{
    private readonly ECDsa _rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public TestCertificates()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("gateway-tls-").FullName;
        var request = new CertificateRequest("CN=Gateway test authority", _rootKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        Root = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        File.WriteAllText(RootFile, Root.ExportCertificatePem());
    }

    public X509Certificate2 Root { get; }

    public string Directory { get; }

    /// <summary>The authority's certificate as PEM, for clients outside this process (a browser, curl).</summary>
    public string RootFile => Path.Combine(Directory, "root.crt");

    /// <summary>Issues a certificate for <paramref name="dnsNames"/> (and 127.0.0.1) and writes it to <c>&lt;name&gt;.crt</c>/<c>.key</c>.</summary>
    public CertificatePair Issue(string name, params string[] dnsNames)
    {
        var files = new CertificatePair(Path.Combine(Directory, name + ".crt"), Path.Combine(Directory, name + ".key"), null!);
        return WriteNew(files, dnsNames);
    }

    /// <summary>As <see cref="Issue"/>, naming <paramref name="ocspResponder"/> as the certificate's OCSP responder (its AIA extension).</summary>
    public CertificatePair IssueWithOcsp(string name, Uri ocspResponder, params string[] dnsNames)
    {
        var files = new CertificatePair(Path.Combine(Directory, name + ".crt"), Path.Combine(Directory, name + ".key"), null!);
        return WriteNew(files, dnsNames, ocspResponder);
    }

    /// <summary>A new certificate (new key, new serial) for the same names, written over <paramref name="pair"/>'s files as cert-manager would.</summary>
    public CertificatePair Renew(CertificatePair pair, params string[] dnsNames) => WriteNew(pair, dnsNames);

    /// <summary>A certificate and key that do not belong together, written over <paramref name="pair"/>'s files: a rotation caught half-way.</summary>
    public static void WriteMismatched(CertificatePair pair)
    {
        using var otherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        File.WriteAllText(pair.KeyFile, otherKey.ExportPkcs8PrivateKeyPem());
    }

    /// <summary>Whether <paramref name="certificate"/> chains to <see cref="Root"/> and the handshake found no other fault (the host name among them).</summary>
    public bool Trusts(X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(Root);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var presented = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return chain.Build(presented);
    }

    /// <summary>
    /// A handler that trusts this authority, connects every host name to <paramref name="connectTo"/> (so any
    /// name can be asked for, as with DNS pointing at the gateway) and records the certificate each handshake showed.
    /// </summary>
    public SocketsHttpHandler Handler(IPEndPoint? connectTo = null, List<X509Certificate2>? seen = null)
    {
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            UseProxy = false,
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                {
                    if (seen is not null && certificate is not null)
                    {
                        lock (seen)
                        {
                            seen.Add(X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
                        }
                    }

                    return Trusts(certificate, errors);
                },
            },
        };
        if (connectTo is not null)
        {
            handler.ConnectCallback = async (_, cancellation) =>
            {
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync(connectTo, cancellation);
                return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
            };
        }

        return handler;
    }

    public void Dispose()
    {
        _rootKey.Dispose();
        Root.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }

    private CertificatePair WriteNew(CertificatePair files, string[] dnsNames, Uri? ocspResponder = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={dnsNames.FirstOrDefault() ?? "gateway"}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var names = new SubjectAlternativeNameBuilder();
        foreach (var name in dnsNames)
        {
            names.AddDnsName(name);
        }

        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        if (ocspResponder is not null)
        {
            request.CertificateExtensions.Add(new X509AuthorityInformationAccessExtension([ocspResponder.ToString()], null));
        }

        var serial = RandomNumberGenerator.GetBytes(12);
        serial[0] &= 0x7F;
        using var issued = request.Create(Root.SubjectName, X509SignatureGenerator.CreateForECDsa(_rootKey),
            DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(30), serial);

        // Written beside and renamed over, as the kubelet swaps a Secret's files: never half a file.
        WriteAtomically(files.CertificateFile, issued.ExportCertificatePem() + "\n" + Root.ExportCertificatePem());
        WriteAtomically(files.KeyFile, key.ExportPkcs8PrivateKeyPem());
        return files with { Certificate = X509CertificateLoader.LoadCertificate(issued.RawData) };
    }

    private static void WriteAtomically(string path, string text)
    {
        var temporary = path + ".new";
        File.WriteAllText(temporary, text);
        File.Move(temporary, path, overwrite: true);
    }
}
