using System.Security.Cryptography.X509Certificates;

namespace ServiceDefaults.Secrets;

/// <summary>
/// Secrets are read from files (a mounted Kubernetes Secret, a file only the program's user may read), never
/// from the configuration itself, which is logged, diffed and committed.
/// </summary>
public static class SecretFiles
{
    /// <summary>The last non-empty line of the file (null when it has none); line ends are not part of it.</summary>
    public static string? ReadPassword(string path) =>
        File.ReadAllLines(path).Select(line => line.TrimEnd('\r')).LastOrDefault(line => line.Length > 0);

    /// <summary>The first certificate of a PEM file, or null when it holds none.</summary>
    public static X509Certificate2? ReadCertificateAuthority(string path)
    {
        var certificates = new X509Certificate2Collection();
        certificates.ImportFromPemFile(path);
        return certificates.Count == 0 ? null : certificates[0];
    }
}
