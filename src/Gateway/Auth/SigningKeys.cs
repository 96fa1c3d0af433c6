using System.Security.Cryptography;
using Gateway.Configuration;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Auth;

/// <summary>
/// The keys of <see cref="AuthOptions"/>: the shared HS256 secret (tickets and the gateway's own sessions)
/// and any ES256 public keys (tickets only). Loaded by the options validator too, so a bad key stops the
/// start with its key named instead of failing every request.
/// </summary>
internal sealed class SigningKeys
{
    private const int MinimumSecretBytes = 32;

    private SigningKeys(SymmetricSecurityKey shared, IReadOnlyList<SecurityKey> ticketKeys)
    {
        Shared = shared;
        TicketKeys = ticketKeys;
    }

    public SymmetricSecurityKey Shared { get; }

    public IReadOnlyList<SecurityKey> TicketKeys { get; }

    public static SigningKeys? Load(AuthOptions options, ICollection<string> failures)
    {
        byte[] secret;
        try
        {
            secret = Convert.FromBase64String(options.SigningKey);
        }
        catch (FormatException)
        {
            secret = [];
        }

        var before = failures.Count;
        if (secret.Length < MinimumSecretBytes)
        {
            failures.Add($"Gateway:Auth:SigningKey must be base64 of at least {MinimumSecretBytes} random bytes when Gateway:Auth:Mode is Ticket "
                + "(e.g. `openssl rand -base64 32`, set as Gateway__Auth__SigningKey); Mode None turns access checks off.");
        }

        var keys = new List<SecurityKey>();
        foreach (var file in options.TicketPublicKeyFiles)
        {
            try
            {
                var ecdsa = ECDsa.Create();
                ecdsa.ImportFromPem(File.ReadAllText(file));
                if (ecdsa.KeySize != 256)
                {
                    failures.Add($"Gateway:Auth:TicketPublicKeyFiles: {file} holds a {ecdsa.KeySize}-bit EC key; ES256 needs P-256.");
                    continue;
                }

                keys.Add(new ECDsaSecurityKey(ecdsa) { KeyId = Path.GetFileName(file) });
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or CryptographicException)
            {
                failures.Add($"Gateway:Auth:TicketPublicKeyFiles: {file} is not a readable PEM EC public key ({ex.GetType().Name}).");
            }
        }

        if (failures.Count != before)
        {
            return null;
        }

        var shared = new SymmetricSecurityKey(secret) { KeyId = "shared" };
        keys.Insert(0, shared);
        return new SigningKeys(shared, keys);
    }
}
