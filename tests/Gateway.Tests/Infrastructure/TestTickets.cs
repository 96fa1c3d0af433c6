using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// Mints tickets and sessions the way the web API (and an attacker) would: JWS compact serialisation by
/// hand (RFC 7515), so tests control every byte and check the gateway against an independent encoder.
/// </summary>
public static class TestTickets
{
    public const string Audience = "workspace-gateway";
    public const string SessionAudience = "workspace-gateway/session";

    /// <summary>Who mints tickets (the web API) and sessions (the gateway): checked as well as the audience.</summary>
    public const string Issuer = "workspace-webapi";
    public const string SessionIssuer = "workspace-gateway";

    /// <summary>The shared secret tests configure (<c>Gateway:Auth:SigningKey</c>).</summary>
    public static readonly byte[] Key = SHA256.HashData("gateway tests shared secret"u8);

    public static string KeyBase64 => Convert.ToBase64String(Key);

    /// <summary>Arguments that turn access checks on for a test gateway.</summary>
    public static string[] GatewayArgs => ["--Gateway:Auth:Mode=Ticket", $"--Gateway:Auth:SigningKey={KeyBase64}"];

    public static string Ticket(string sid, string subject = "user-1", TimeSpan? lifetime = null) =>
        Hs256(Claims(sid, subject, Audience, lifetime ?? TimeSpan.FromMinutes(2)));

    public static string Session(string sid, string subject = "user-1", TimeSpan? lifetime = null) =>
        Hs256(Claims(sid, subject, SessionAudience, lifetime ?? TimeSpan.FromHours(8)));

    /// <summary>What the web API gives a signed-in user for one port of someone else's workspace.</summary>
    public static string PortTicket(string sid, int port, string subject = "user-2", TimeSpan? lifetime = null)
    {
        var claims = Claims(sid, subject, Audience, lifetime ?? TimeSpan.FromMinutes(2));
        claims["port"] = port;
        return Hs256(claims);
    }

    public static string PortSession(string sid, int port, string subject = "user-2")
    {
        var claims = Claims(sid, subject, SessionAudience, TimeSpan.FromHours(8));
        claims["port"] = port;
        return Hs256(claims);
    }

    public static JsonObject Claims(string sid, string subject, string audience, TimeSpan lifetime)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        return new JsonObject
        {
            ["sub"] = subject,
            ["sid"] = sid,
            ["iss"] = audience == SessionAudience ? SessionIssuer : Issuer,
            ["aud"] = audience,
            ["iat"] = now,
            ["exp"] = now + (long)lifetime.TotalSeconds,
        };
    }

    public static string Hs256(JsonObject claims, byte[]? key = null, JsonObject? header = null)
    {
        header ??= new JsonObject { ["alg"] = "HS256", ["typ"] = "JWT" };
        var signingInput = Encode(header) + "." + Encode(claims);
        return signingInput + "." + Base64Url(HMACSHA256.HashData(key ?? Key, Encoding.ASCII.GetBytes(signingInput)));
    }

    public static string Hs512(JsonObject claims) =>
        Sign(new JsonObject { ["alg"] = "HS512", ["typ"] = "JWT" }, claims, input => HMACSHA512.HashData(Key, input));

    public static string Es256(JsonObject claims, ECDsa key) =>
        Sign(new JsonObject { ["alg"] = "ES256", ["typ"] = "JWT" }, claims, input => key.SignData(input, HashAlgorithmName.SHA256));

    /// <summary>An unsigned token (RFC 7519 §6): header <c>alg: none</c> and an empty signature.</summary>
    public static string WithoutSignature(JsonObject claims, string alg = "none") =>
        Encode(new JsonObject { ["alg"] = alg, ["typ"] = "JWT" }) + "." + Encode(claims) + ".";

    public static string Encode(JsonNode node) => Base64Url(Encoding.UTF8.GetBytes(node.ToJsonString()));

    public static string Base64Url(ReadOnlySpan<byte> bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static string Sign(JsonObject header, JsonObject claims, Func<byte[], byte[]> sign)
    {
        var signingInput = Encode(header) + "." + Encode(claims);
        return signingInput + "." + Base64Url(sign(Encoding.ASCII.GetBytes(signingInput)));
    }
}
