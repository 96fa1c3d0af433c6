using System.Collections.Concurrent;
using Contracts.Tickets;
using Gateway.Configuration;
using Gateway.Routing;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Auth;

/// <summary>
/// Checks tickets and session tokens (signature, audience, expiry, claims) and mints sessions. A token that
/// passed once is remembered until it expires, so a request carrying a known cookie costs one dictionary
/// read, no signature check and no allocation; nothing here calls Redis or a database: a check must not depend on a store being up.
/// </summary>
internal sealed partial class AccessTokens
{
    private const int MaxRememberedTokens = 50_000;
    private const int MaxTokenBytes = 8 * 1024;
    private const int MaxWorkspaceName = 200;

    private readonly JsonWebTokenHandler _handler = new() { MaximumTokenSizeInBytes = MaxTokenBytes, SetDefaultTimesOnTokenCreation = false };
    private readonly WorkspacePathParser _parser;
    private readonly TimeProvider _time;
    private readonly ILogger<AccessTokens> _logger;
    private readonly Remembered _tickets = new();
    private readonly Remembered _sessions = new();
    private volatile Snapshot _current;

    public AccessTokens(IOptionsMonitor<GatewayOptions> options, WorkspacePathParser parser, TimeProvider time, ILogger<AccessTokens> logger)
    {
        _parser = parser;
        _time = time;
        _logger = logger;
        _current = Snapshot.From(options.CurrentValue.Auth);
        WarnIfOpen(options.CurrentValue.Auth);
        options.OnChange(o =>
        {
            WarnIfOpen(o.Auth);
            // Rotated keys or a new audience: what was accepted under the old settings must be checked again.
            _current = Snapshot.From(o.Auth);
            _tickets.Clear();
            _sessions.Clear();
        });
    }

    /// <summary>The settings the current keys belong to; one read per request gives a consistent view.</summary>
    public AuthOptions Options => _current.Options;

    public bool Enabled => _current.Options.Mode == AuthMode.Ticket;

    /// <summary>The session cookie's name: <see cref="SessionCookie.HostPrefix"/> on a workspace's own origin over HTTPS.</summary>
    public string CookieName(bool secureOwnOrigin) => secureOwnOrigin ? _current.PrefixedCookieName : _current.Options.CookieName;

    /// <summary>A token accepted before and not yet expired; no allocation.</summary>
    public bool TryGetRemembered(TokenKind kind, ReadOnlySpan<char> token, out Credential credential)
    {
        var remembered = kind == TokenKind.Ticket ? _tickets : _sessions;
        if (remembered.Lookup.TryGetValue(token, out credential))
        {
            if (credential.ExpiresAt + _current.Options.ClockSkew > _time.GetUtcNow())
            {
                return true;
            }

            remembered.Lookup.TryRemove(token, out _, out _);
        }

        return false;
    }

    public async ValueTask<TokenCheck> CheckAsync(TokenKind kind, string token)
    {
        if (TryGetRemembered(kind, token, out var known))
        {
            return new TokenCheck(known, null);
        }

        var snapshot = _current;
        if (snapshot.Keys is null)
        {
            return TokenCheck.Invalid("no signing key configured");
        }

        TokenValidationResult result;
        try
        {
            result = await _handler.ValidateTokenAsync(token, kind == TokenKind.Ticket ? snapshot.Tickets : snapshot.Sessions);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or System.Text.Json.JsonException)
        {
            return TokenCheck.Invalid("malformed");
        }

        if (!result.IsValid)
        {
            return TokenCheck.Invalid(Describe(result.Exception));
        }

        var jwt = (JsonWebToken)result.SecurityToken;
        // A string, not whatever converts to one: {"sid": 42} is malformed, not workspace "42".
        if (!jwt.TryGetPayloadValue<object>(TicketContract.SidClaim, out var claim) || claim is not string sid || !_parser.IsValidSid(sid))
        {
            return TokenCheck.Invalid("no valid sid claim");
        }

        if (string.IsNullOrEmpty(jwt.Subject))
        {
            return TokenCheck.Invalid("no sub claim");
        }

        // No port claim: the owner's. A port claim must be a port number, never a string or a range.
        var port = 0;
        if (jwt.TryGetPayloadValue<object>(TicketContract.PortClaim, out var portClaim))
        {
            port = portClaim switch { int i => i, long l and >= 1 and <= 65535 => (int)l, _ => 0 };
            if (!Contracts.Routing.PortNumber.IsValid(port))
            {
                return TokenCheck.Invalid("no valid port claim");
            }
        }

        // Only shown to the owner in the editor's welcome; anything but a short string is left out, never refused.
        var name = jwt.TryGetPayloadValue<object>(TicketContract.WorkspaceNameClaim, out var nameClaim) && nameClaim is string { Length: > 0 and <= MaxWorkspaceName } given
            ? given
            : null;
        var credential = new Credential(sid, jwt.Subject, new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero), port, name);
        (kind == TokenKind.Ticket ? _tickets : _sessions).Add(token, credential);
        return new TokenCheck(credential, null);
    }

    /// <summary>A session for the holder of <paramref name="credential"/>, valid for <see cref="AuthOptions.SessionLifetime"/> from now.</summary>
    public (string Token, Credential Session) IssueSession(Credential credential)
    {
        var snapshot = _current;
        var now = _time.GetUtcNow();
        var session = credential with { ExpiresAt = now + snapshot.Options.SessionLifetime };
        var claims = new Dictionary<string, object> { [TicketContract.SubjectClaim] = credential.Subject, [TicketContract.SidClaim] = credential.Sid };
        if (credential.Port != 0)
        {
            claims[TicketContract.PortClaim] = credential.Port;
        }

        if (credential.WorkspaceName is { } name)
        {
            claims[TicketContract.WorkspaceNameClaim] = name;
        }

        var token = _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = TicketContract.SessionIssuer,
            Audience = snapshot.SessionAudience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = session.ExpiresAt.UtcDateTime,
            Claims = claims,
            SigningCredentials = snapshot.SessionSigning,
        });

        // Whole seconds in the token: remember what a later check of it would return.
        session = session with { ExpiresAt = DateTimeOffset.FromUnixTimeSeconds(session.ExpiresAt.ToUnixTimeSeconds()) };
        _sessions.Add(token, session);
        return (token, session);
    }

    private void WarnIfOpen(AuthOptions options)
    {
        if (options.Mode == AuthMode.None)
        {
            LogOpenDoor();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Gateway:Auth:Mode is None: anyone who knows a workspace id can open that workspace. Use it for local development only.")]
    private partial void LogOpenDoor();

    // The library's messages can carry token parts; logs get our own words only.
    private string Describe(Exception? failure)
    {
        var reason = failure switch
        {
            SecurityTokenExpiredException => "expired",
            SecurityTokenNotYetValidException => "not yet valid",
            SecurityTokenInvalidAudienceException => "wrong audience",
            SecurityTokenInvalidIssuerException => "wrong issuer",
            SecurityTokenInvalidAlgorithmException => "algorithm not allowed",
            SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException => "bad signature",
            SecurityTokenNoExpirationException => "no expiry",
            SecurityTokenMalformedException or ArgumentException => "malformed",
            _ => "invalid",
        };
        if (reason == "invalid" && _logger.IsEnabled(LogLevel.Debug))
        {
            var kind = failure?.GetType().Name;
            LogUnclassified(kind);
        }

        return reason;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Token rejected for a reason not classified: {Kind}")]
    private partial void LogUnclassified(string? kind);

    private sealed class Remembered
    {
        private readonly ConcurrentDictionary<string, Credential> _entries = new(StringComparer.Ordinal);
        private int _count;

        public Remembered() => Lookup = _entries.GetAlternateLookup<ReadOnlySpan<char>>();

        public ConcurrentDictionary<string, Credential>.AlternateLookup<ReadOnlySpan<char>> Lookup { get; }

        public void Add(string token, Credential credential)
        {
            // A flood of distinct valid tokens cannot grow this without bound; clearing only costs re-checks.
            if (Interlocked.Increment(ref _count) > MaxRememberedTokens)
            {
                Clear();
            }

            _entries[token] = credential;
        }

        public void Clear()
        {
            _entries.Clear();
            Volatile.Write(ref _count, 0);
        }
    }

    private sealed record Snapshot(
        AuthOptions Options, SigningKeys? Keys, TokenValidationParameters Tickets, TokenValidationParameters Sessions,
        string SessionAudience, SigningCredentials? SessionSigning)
    {
        public string PrefixedCookieName { get; } = SessionCookie.HostPrefix + Options.CookieName;

        public static Snapshot From(AuthOptions options)
        {
            // Options reach here validated (Mode None may leave the key empty: then nothing is accepted).
            var keys = options.Mode == AuthMode.Ticket ? SigningKeys.Load(options, new List<string>()) : null;
            var sessionAudience = TicketContract.SessionAudience(options.Audience);
            return new Snapshot(
                options,
                keys,
                Parameters(options, options.Audience, options.Issuer, keys?.TicketKeys ?? [], SecurityAlgorithms.HmacSha256, SecurityAlgorithms.EcdsaSha256),
                Parameters(options, sessionAudience, TicketContract.SessionIssuer, keys is null ? [] : [keys.Shared], SecurityAlgorithms.HmacSha256),
                sessionAudience,
                keys is null ? null : new SigningCredentials(keys.Shared, SecurityAlgorithms.HmacSha256));
        }

        // The issuer is checked as well as the audience: a session must not pass for a ticket, nor a token another
        // system signed with a key it shares with us (RFC 8725 §3.8, §3.9).
        private static TokenValidationParameters Parameters(AuthOptions options, string audience, string issuer, IReadOnlyList<SecurityKey> keys, params string[] algorithms) => new()
        {
            ValidAudience = audience,
            ValidIssuer = issuer,
            ValidateIssuer = true,
            IssuerSigningKeys = keys,
            TryAllIssuerSigningKeys = true,
            ValidAlgorithms = algorithms,
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            ValidateLifetime = true,
            ClockSkew = options.ClockSkew,
        };
    }
}
