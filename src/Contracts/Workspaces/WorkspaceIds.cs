using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace Contracts.Workspaces;

/// <summary>
/// A workspace's id (sid): made by the web API, the Workspace resource's name at the operator (and its pod's), a
/// DNS label in its own origin at the gateway, the key of its route in Redis.
/// </summary>
public static partial class WorkspaceIds
{
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz234567";

    /// <summary>
    /// A new sid: <c>ws-</c> and 12 base32 characters, 60 random bits, so nobody guesses another's. A DNS label,
    /// as the operator and host-based routing need.
    /// </summary>
    public static string New()
    {
        Span<char> chars = stackalloc char[12];
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = Alphabet[RandomNumberGenerator.GetInt32(Alphabet.Length)];
        }

        return "ws-" + new string(chars);
    }

    /// <summary>
    /// A DNS label (RFC 1123): what the operator accepts as a Workspace's name, and so as a sid it serves. (The
    /// gateway routes a wider set, configurable, for sids the old platform handed out.)
    /// </summary>
    [GeneratedRegex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")]
    public static partial Regex DnsLabel();
}
