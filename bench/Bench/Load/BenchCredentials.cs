using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Bench.Load;

/// <summary>
/// What a browser holds after opening a workspace through the dashboard: the gateway's session
/// cookie for that workspace's path. Every target gets the same header, so the baselines parse the same
/// bytes; only the gateway checks it. Minted here with the gateway's documented session format
/// (docs/security.md) and a key generated for this run.
/// </summary>
internal static class BenchCredentials
{
    private static readonly ConcurrentDictionary<string, string> CookieLines = new(StringComparer.Ordinal);
    private static readonly JsonWebTokenHandler Handler = new();

    public static string SigningKeyBase64 { get; } = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary><c>Cookie: gw_session=...</c> (without line end) for a <c>/ws/&lt;sid&gt;/...</c> path; null for any other path.</summary>
    public static string? CookieFor(string path)
    {
        if (!path.StartsWith("/ws/", StringComparison.Ordinal))
        {
            return null;
        }

        var end = path.IndexOf('/', 4);
        return CookieForSid(end < 0 ? path[4..] : path[4..end]);
    }

    /// <summary>The same cookie for a workspace addressed by host name.</summary>
    public static string CookieForSid(string sid)
    {
        return CookieLines.GetOrAdd(sid, static s => "gw_session=" + Handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "workspace-gateway",
            Audience = "workspace-gateway/session",
            Expires = DateTime.UtcNow.AddHours(8),
            Claims = new Dictionary<string, object> { ["sub"] = "bench", ["sid"] = s },
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Convert.FromBase64String(SigningKeyBase64)), SecurityAlgorithms.HmacSha256),
        }));
    }
}
