using System.Security.Cryptography.X509Certificates;
using ServiceDefaults.Secrets;

namespace ServiceDefaults.Redis;

/// <summary>
/// Where a program's Redis is and who the program is there, bound from its <c>&lt;Program&gt;:Redis</c> section.
/// Each program signs in as a Redis user of its own whose ACL grants only the commands, keys and channels that
/// program uses (<c>config/redis-users.acl</c>): a leaked password of one program cannot rewrite routes.
/// </summary>
public class RedisConnectionOptions
{
    /// <summary>
    /// A StackExchange.Redis configuration string: <c>host:port</c>, several endpoints, <c>ssl=true</c>,
    /// <c>defaultDatabase=</c>, or Sentinel (<c>sentinel-a:26379,sentinel-b:26379,serviceName=mymaster</c>).
    /// </summary>
    public string Configuration { get; set; } = "127.0.0.1:6379";

    /// <summary>The Redis ACL user (Redis 6+); empty: the server's <c>default</c> user.</summary>
    public string User { get; set; } = "";

    /// <summary>
    /// A file holding the user's password (a mounted Secret); its last non-empty line is used, so during a
    /// rotation it may hold the old password and the new one below it. Re-read while the program runs:
    /// a rotated password reaches the next connection without a restart.
    /// </summary>
    public string PasswordFile { get; set; } = "";

    /// <summary>PEM file of the certificate authority that signed the Redis server's TLS certificate (with <c>ssl=true</c>); empty: the system's trust store.</summary>
    public string TlsCaFile { get; set; } = "";

    /// <summary>Adds a sentence naming <paramref name="section"/>'s key for each setting that cannot work.</summary>
    public void Validate(string section, string clientName, ICollection<string> failures)
    {
        if (!RedisConfiguration.TryParse(Configuration, clientName, out var parsed, out var error))
        {
            failures.Add($"{section}:Configuration {error}.");
        }

        if (!string.IsNullOrEmpty(User) && parsed?.User is not null)
        {
            failures.Add($"{section}: the user is named twice, in {section}:User and as user= in {section}:Configuration; keep {section}:User.");
        }

        if (!string.IsNullOrEmpty(PasswordFile) && parsed?.Password is not null)
        {
            failures.Add($"{section}: the password is given twice, in {section}:PasswordFile and as password= in {section}:Configuration; keep {section}:PasswordFile.");
        }

        if (!string.IsNullOrEmpty(User) && string.IsNullOrEmpty(PasswordFile) && parsed is { Password: null })
        {
            failures.Add($"{section}:User '{User}' needs its password: set {section}:PasswordFile to the file that holds it.");
        }

        if (!string.IsNullOrEmpty(PasswordFile))
        {
            try
            {
                if (ReadPassword() is null)
                {
                    failures.Add($"{section}:PasswordFile '{PasswordFile}' holds no password.");
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                failures.Add($"{section}:PasswordFile '{PasswordFile}' cannot be read: {ex.Message}");
            }
        }

        if (!string.IsNullOrEmpty(TlsCaFile))
        {
            if (parsed is { Ssl: false })
            {
                failures.Add($"{section}:TlsCaFile is set, but {section}:Configuration does not turn TLS on: add ssl=true.");
            }

            try
            {
                if (ReadCertificateAuthority() is null)
                {
                    failures.Add($"{section}:TlsCaFile '{TlsCaFile}' holds no PEM certificate.");
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
            {
                failures.Add($"{section}:TlsCaFile '{TlsCaFile}' cannot be read: {ex.Message}");
            }
        }
    }

    /// <summary>The last non-empty line of <see cref="PasswordFile"/> (null when it has none); line ends are not part of it.</summary>
    public string? ReadPassword() => SecretFiles.ReadPassword(PasswordFile);

    /// <summary>The first certificate of <see cref="TlsCaFile"/>, or null when it holds none.</summary>
    public X509Certificate2? ReadCertificateAuthority() => SecretFiles.ReadCertificateAuthority(TlsCaFile);
}
