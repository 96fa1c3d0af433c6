using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gateway.Configuration;

namespace Gateway.Tls;

/// <summary>One certificate read from its PEM files: the leaf with its key, its intermediates, the DNS names it serves.</summary>
internal sealed record LoadedCertificate(X509Certificate2 Leaf, X509Certificate2Collection Intermediates, string[] DnsNames, byte[] FileContents)
{
    private const string ServerAuthentication = "1.3.6.1.5.5.7.3.1";

    /// <summary>
    /// Reads <paramref name="files"/>; null with <paramref name="failure"/> in words (naming the files) when
    /// they cannot be served: unreadable, not PEM, a key that is not the certificate's, or a certificate
    /// that may not authenticate a server.
    /// </summary>
    public static LoadedCertificate? TryLoad(CertificateFileOptions files, out string? failure) =>
        TryRead(files, out var certificatePem, out var keyPem, out failure) ? TryParse(files, certificatePem, keyPem, out failure) : null;

    /// <summary>The two files' bytes; false with <paramref name="failure"/> when either cannot be read.</summary>
    public static bool TryRead(CertificateFileOptions files, out byte[] certificatePem, out byte[] keyPem, out string? failure)
    {
        try
        {
            certificatePem = File.ReadAllBytes(files.CertificateFile);
            keyPem = File.ReadAllBytes(files.KeyFile);
            failure = null;
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            (certificatePem, keyPem) = ([], []);
            failure = $"cannot read {files.CertificateFile} and {files.KeyFile}: {ex.Message}";
            return false;
        }
    }

    /// <summary>Whether these are the bytes this certificate was loaded from.</summary>
    public bool CameFrom(byte[] certificatePem, byte[] keyPem) =>
        certificatePem.Length + keyPem.Length == FileContents.Length
        && FileContents.AsSpan(0, certificatePem.Length).SequenceEqual(certificatePem)
        && FileContents.AsSpan(certificatePem.Length).SequenceEqual(keyPem);

    /// <summary>
    /// The certificate in <paramref name="certificatePem"/> with the key in <paramref name="keyPem"/>, both read
    /// once: loading from the paths again could pair a new certificate with an old key mid-rotation.
    /// </summary>
    public static LoadedCertificate? TryParse(CertificateFileOptions files, byte[] certificatePem, byte[] keyPem, out string? failure)
    {
        X509Certificate2 leaf;
        var chain = new X509Certificate2Collection();
        try
        {
            var certificateText = System.Text.Encoding.ASCII.GetString(certificatePem);
            var keyText = System.Text.Encoding.ASCII.GetString(keyPem);
            leaf = X509Certificate2.CreateFromPem(certificateText, keyText);
            chain.ImportFromPem(certificateText);
        }
        catch (ArgumentException ex)
        {
            // What .NET throws for a key that is not the certificate's: a rotation caught half-way, or a wrong file.
            failure = $"{files.KeyFile} is not the private key of the certificate in {files.CertificateFile} ({ex.Message})";
            return null;
        }
        catch (CryptographicException ex)
        {
            failure = $"{files.CertificateFile} with {files.KeyFile}: {ex.Message} (PEM certificate, then its intermediates; PEM private key of that certificate)";
            return null;
        }

        if (leaf.Extensions.OfType<X509EnhancedKeyUsageExtension>().FirstOrDefault() is { } usage
            && !usage.EnhancedKeyUsages.Cast<Oid>().Any(oid => oid.Value == ServerAuthentication))
        {
            failure = $"{files.CertificateFile}: the certificate's extended key usage does not allow server authentication.";
            leaf.Dispose();
            return null;
        }

        var intermediates = new X509Certificate2Collection();
        foreach (var certificate in chain)
        {
            if (certificate.Thumbprint != leaf.Thumbprint)
            {
                intermediates.Add(certificate);
            }
        }

        var names = leaf.Extensions.OfType<X509SubjectAlternativeNameExtension>().FirstOrDefault() is { } alternative
            ? [.. alternative.EnumerateDnsNames().Select(name => name.TrimEnd('.').ToLowerInvariant())]
            : Array.Empty<string>();

        failure = null;
        return new LoadedCertificate(leaf, intermediates, names, [.. certificatePem, .. keyPem]);
    }
}
