using Contracts.Sharing;
using Gateway.Configuration;
using Gateway.Diagnostics;
using Gateway.Errors;
using Gateway.Forwarding;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;

namespace Gateway.Auth;

/// <summary>
/// Decides whether a request may reach workspace <c>sid</c>. Credentials, in order: a ticket in
/// the query (the first navigation: exchanged for a session cookie and a redirect that drops it), the
/// session cookie, an <c>Authorization: Bearer</c> ticket. None valid: 401 (or the login page for a browser
/// navigation); valid but for another workspace: 403. The common case, a known cookie, completes
/// synchronously without allocating.
/// </summary>
internal sealed partial class WorkspaceAccessGate
{
    private const string BearerPrefix = "Bearer ";

    private readonly AccessTokens _tokens;
    private readonly TrustedProxies _proxies;
    private readonly Routing.WorkspaceHostParser _hosts;
    private readonly TimeProvider _time;
    private readonly ILogger<WorkspaceAccessGate> _logger;
    private readonly LogBudget _denialLogs;

    public WorkspaceAccessGate(AccessTokens tokens, TrustedProxies proxies, Routing.WorkspaceHostParser hosts, TimeProvider time, ILogger<WorkspaceAccessGate> logger)
    {
        _tokens = tokens;
        _proxies = proxies;
        _hosts = hosts;
        _time = time;
        _logger = logger;
        _denialLogs = LogBudget.PerSecond(time);
    }

    public bool Enabled => _tokens.Enabled;

    /// <summary>
    /// The common case without waiting or writing: a remembered session cookie that opens
    /// <paramref name="port"/> (0: the editor) of <paramref name="sid"/> shared at <paramref name="sharing"/>.
    /// </summary>
    public bool TryAdmitFast(HttpContext context, ReadOnlySpan<char> sid, bool ownOrigin, int port, PortSharing sharing, out Admission admission)
    {
        var options = _tokens.Options;
        if (!TicketParameter.MayContain(context.Request.QueryString.Value, options.TicketParameter)
            && TryGetRememberedSession(context, CookieNameFor(context, ownOrigin), out var session)
            && session.Opens(sid, port, sharing))
        {
            admission = session.Port == 0 ? Admission.Owner : Admission.SignedIn;
            return true;
        }

        admission = Admission.Refused;
        return false;
    }

    /// <summary>What the owner named the workspace, as its session cookie says (the editor's welcome shows it); null without one.</summary>
    public string? WorkspaceName(HttpContext context, bool ownOrigin) =>
        TryGetRememberedSession(context, CookieNameFor(context, ownOrigin), out var session) ? session.WorkspaceName : null;

    /// <summary>
    /// How the request may be forwarded, or <see cref="Admission.Refused"/> with its response (redirect, 401,
    /// 403) written. <paramref name="ownOrigin"/>: the workspace is addressed by host name, so its cookie
    /// covers the whole origin (<c>Path=/</c>, host-only) instead of <c>/ws/&lt;sid&gt;/</c>.
    /// <paramref name="port"/>: a dev-server port origin shared at <paramref name="sharing"/>, or 0 for the
    /// editor, which only its owner opens.
    /// </summary>
    public ValueTask<Admission> AdmitAsync(HttpContext context, ReadOnlySpan<char> sid, bool ownOrigin, int port = 0, PortSharing sharing = PortSharing.Private)
    {
        if (TryAdmitFast(context, sid, ownOrigin, port, sharing, out var admission))
        {
            return ValueTask.FromResult(admission);
        }

        return AdmitSlowAsync(context, new Door(sid.ToString(), port, sharing), ownOrigin, CookieNameFor(context, ownOrigin), _tokens.Options);
    }

    private async ValueTask<Admission> AdmitSlowAsync(HttpContext context, Door door, bool ownOrigin, string cookieName, AuthOptions options)
    {
        var request = context.Request;
        var sid = door.Sid;
        var navigation = (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method))
            && context.Features.Get<IHttpUpgradeFeature>() is not { IsUpgradableRequest: true };

        if (TicketParameter.TryFind(request.QueryString.Value, options.TicketParameter, out var ticket))
        {
            var fromQuery = await _tokens.CheckAsync(TokenKind.Ticket, ticket);
            var opens = fromQuery.IsValid && door.OpenedBy(fromQuery.Credential);
            if (opens && navigation)
            {
                var (token, _) = _tokens.IssueSession(fromQuery.Credential);
                context.Response.Headers.SetCookie = SessionCookie.Format(options, cookieName, token, ownOrigin ? null : sid, _proxies.ClientUsedHttps(context));
                return RedirectWithoutTicket(context, options);
            }

            if (opens)
            {
                // A script or WebSocket client that cannot follow redirects: admitted once; the ticket is
                // removed from what the workspace receives.
                return Door.AdmissionFor(fromQuery.Credential);
            }

            // Anyone may open a public port: the ticket is only dropped from the address.
            if (door.IsPublic)
            {
                return navigation ? RedirectWithoutTicket(context, options) : Admission.Public;
            }

            if (fromQuery.IsValid)
            {
                return await DenyAsync(context, sid, GatewayProblem.WorkspaceForbidden, DescribeRefusal(fromQuery.Credential, door, "ticket"));
            }

            // A stale link opened by someone whose session is still good: only drop the ticket.
            if (navigation && await CookieCheckAsync(context, cookieName) is { IsValid: true } held && door.OpenedBy(held.Credential))
            {
                return RedirectWithoutTicket(context, options);
            }

            return await DenyAsync(context, sid, GatewayProblem.CredentialInvalid, "ticket " + fromQuery.Failure);
        }

        string? failure = null;
        Credential? insufficient = null;
        foreach (var check in new[] { await CookieCheckAsync(context, cookieName), await BearerCheckAsync(request) })
        {
            if (check is not { } presented)
            {
                continue;
            }

            if (presented.IsValid && door.OpenedBy(presented.Credential))
            {
                return Door.AdmissionFor(presented.Credential);
            }

            insufficient ??= presented.IsValid ? presented.Credential : null;
            failure ??= presented.Failure;
        }

        // Anyone with the link: whatever else the request carries.
        if (door.IsPublic)
        {
            return Admission.Public;
        }

        if (insufficient is { } valid)
        {
            return await DenyAsync(context, sid, GatewayProblem.WorkspaceForbidden, DescribeRefusal(valid, door, "credential"));
        }

        if (failure is null && navigation && !string.IsNullOrEmpty(options.LoginUrl) && AcceptsHtml(request))
        {
            RedirectToLogin(context, options, ownOrigin);
            LogDenied(sid, StatusCodes.Status302Found, "no credential, sent to log in");
            return Admission.Refused;
        }

        return await DenyAsync(
            context, sid, failure is null ? GatewayProblem.AuthenticationRequired : GatewayProblem.CredentialInvalid, failure ?? "no credential");
    }

    /// <summary>
    /// Sends the owner's browser, navigating to a workspace that is not running, to the platform's page with
    /// the address it asked for: the page offers to start it and comes back there (a bare 404 left the user to
    /// find the workspace and reopen it by hand). It is the very redirect a visitor without a credential gets,
    /// so it says nothing about whether the workspace exists. False, with nothing written, for anything but a
    /// page navigation (scripts and WebSocket reconnects keep their 404) or without a log-in page.
    /// </summary>
    public bool TrySendToPlatform(HttpContext context, bool ownOrigin)
    {
        var options = _tokens.Options;
        var request = context.Request;
        if (!Enabled || string.IsNullOrEmpty(options.LoginUrl)
            || !(HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method))
            || context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true }
            || !AcceptsHtml(request))
        {
            return false;
        }

        RedirectToLogin(context, options, ownOrigin);
        return true;
    }

    private static string DescribeRefusal(Credential credential, Door door, string what) =>
        credential.Sid != door.Sid ? what + " for another workspace"
        : credential.Port == 0 ? what + " for the workspace"
        : door.Port == 0 ? what + " for port " + credential.Port.ToString(System.Globalization.CultureInfo.InvariantCulture) + ", not the editor"
        : door.Port != credential.Port ? what + " for another port"
        : what + " for a port that is private";

    /// <summary>
    /// Sliding sessions: once half of a session's lifetime has passed, the next ordinary response carries a
    /// fresh cookie, so an editor in daily use never meets a 401, and an abandoned one expires.
    /// </summary>
    public void RenewSessionIfDue(HttpContext context, bool ownOrigin)
    {
        var options = _tokens.Options;
        if (options.Mode != AuthMode.Ticket
            || context.Response.StatusCode == StatusCodes.Status101SwitchingProtocols)
        {
            return;
        }

        var cookieName = CookieNameFor(context, ownOrigin);
        if (!TryGetRememberedSession(context, cookieName, out var session)
            || !IsRenewalDue(session, options)
            || !(ownOrigin ? _hosts.IsOriginOf(context.Request.Headers.Host.ToString(), session.Sid) : IsPathOf(context.Request.Path.Value, session.Sid)))
        {
            return;
        }

        var (token, _) = _tokens.IssueSession(session);
        context.Response.Headers.Append(HeaderNames.SetCookie, SessionCookie.Format(options, cookieName, token, ownOrigin ? null : session.Sid, _proxies.ClientUsedHttps(context)));
    }

    /// <summary>
    /// Whether <paramref name="session"/>, presented now, gets a fresh cookie with its answer: half of its lifetime
    /// has passed. A forwarder that does not renew sessions itself leaves such a request to the one that does.
    /// </summary>
    public bool IsRenewalDue(in Credential session) => IsRenewalDue(session, _tokens.Options);

    private bool IsRenewalDue(in Credential session, AuthOptions options) =>
        options.Mode == AuthMode.Ticket && session.ExpiresAt - _time.GetUtcNow() <= options.SessionLifetime / 2;

    // The session the request's cookie names, when it is one already checked: no signature work, no waiting.
    private bool TryGetRememberedSession(HttpContext context, string cookieName, out Credential session)
    {
        session = default;
        return SessionCookie.TryFind(context.Request.Headers.Cookie, cookieName, out var cookie)
            && _tokens.TryGetRemembered(TokenKind.Session, cookie, out session);
    }

    private string CookieNameFor(HttpContext context, bool ownOrigin) => _tokens.CookieName(ownOrigin && _proxies.ClientUsedHttps(context));

    private static bool IsPathOf(string? path, string sid) =>
        path is not null && path.Length > Routing.WorkspacePath.SidStart + sid.Length
        && path.AsSpan(Routing.WorkspacePath.SidStart, sid.Length).SequenceEqual(sid)
        && path[Routing.WorkspacePath.SidStart + sid.Length] == '/';

    /// <summary>Whether <paramref name="token"/> is a ticket this gateway accepts (for any workspace).</summary>
    public async ValueTask<bool> IsTicketAsync(string token) => (await _tokens.CheckAsync(TokenKind.Ticket, token)).IsValid;

    private async ValueTask<TokenCheck?> CookieCheckAsync(HttpContext context, string cookieName) =>
        SessionCookie.TryFind(context.Request.Headers.Cookie, cookieName, out var cookie)
            ? Named(await _tokens.CheckAsync(TokenKind.Session, cookie.ToString()), "session")
            : null;

    private async ValueTask<TokenCheck?> BearerCheckAsync(HttpRequest request) =>
        TryGetBearer(request, out var token) ? Named(await _tokens.CheckAsync(TokenKind.Ticket, token), "bearer ticket") : null;

    public static bool TryGetBearer(HttpRequest request, out string token)
    {
        var authorization = request.Headers.Authorization;
        if (authorization.Count == 1 && authorization[0] is { } value
            && value.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase) && value.Length > BearerPrefix.Length)
        {
            token = value[BearerPrefix.Length..].Trim();
            return token.Length > 0;
        }

        token = "";
        return false;
    }

    private static TokenCheck Named(TokenCheck check, string what) => check.IsValid ? check : TokenCheck.Invalid($"{what} {check.Failure}");

    private static bool AcceptsHtml(HttpRequest request) =>
        request.Headers["Sec-Fetch-Mode"] == "navigate" || request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase);

    private static Admission RedirectWithoutTicket(HttpContext context, AuthOptions options)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status303SeeOther;
        response.Headers.Location = string.Concat(PathAsSent(context), TicketParameter.Without(context.Request.QueryString.Value, options.TicketParameter));
        response.Headers.CacheControl = "no-store";

        // The ticket was in this address: no page reached from it may learn it through Referer.
        response.Headers["Referrer-Policy"] = "no-referrer";
        return Admission.Refused;
    }

    private void RedirectToLogin(HttpContext context, AuthOptions options, bool ownOrigin)
    {
        // On a workspace's own origin the login page is on another origin (validated absolute), so it must be
        // told which origin to come back to.
        var returnTo = string.Concat(
            ownOrigin ? (_proxies.ClientUsedHttps(context) ? "https://" : "http://") + context.Request.Headers.Host.ToString() : "",
            PathAsSent(context),
            context.Request.QueryString.Value);
        var login = options.LoginUrl!;
        context.Response.StatusCode = StatusCodes.Status302Found;
        context.Response.Headers.Location = string.Concat(login, login.Contains('?', StringComparison.Ordinal) ? "&" : "?", "returnTo=", Uri.EscapeDataString(returnTo));
        context.Response.Headers.CacheControl = "no-store";
    }

    // The path as the client spelled it when it is origin-form, so a redirect does not re-encode it.
    private static string PathAsSent(HttpContext context)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (raw is not null && raw.StartsWith('/'))
        {
            var query = raw.IndexOf('?', StringComparison.Ordinal);
            return query < 0 ? raw : raw[..query];
        }

        return context.Request.Path.ToUriComponent();
    }

    private async ValueTask<Admission> DenyAsync(HttpContext context, string sid, GatewayProblem problem, string reason)
    {
        LogDenied(sid, problem.Status, reason);
        var challenge = problem.Status == StatusCodes.Status403Forbidden
            ? "Bearer realm=\"workspace-gateway\", error=\"insufficient_scope\""
            : problem == GatewayProblem.CredentialInvalid
                ? "Bearer realm=\"workspace-gateway\", error=\"invalid_token\""
                : "Bearer realm=\"workspace-gateway\"";
        await GatewayProblemWriter.WriteAsync(context, problem, sid, challenge: challenge);
        return Admission.Refused;
    }

    private void LogDenied(string sid, int status, string reason)
    {
        if (_denialLogs.TryTake(out var suppressed))
        {
            LogAccessDenied(sid, status, reason, suppressed);
        }
    }

    /// <summary>What the request asks to open: the editor (port 0) or a port at its current sharing level.</summary>
    private readonly record struct Door(string Sid, int Port, PortSharing Sharing)
    {
        public bool IsPublic => Port != 0 && Sharing == PortSharing.Public;

        public bool OpenedBy(Credential credential) => credential.Opens(Sid, Port, Sharing);

        public static Admission AdmissionFor(Credential credential) => credential.Port == 0 ? Admission.Owner : Admission.SignedIn;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Access to workspace {Sid} refused with {Status}: {Reason} ({Suppressed} similar lines suppressed before this one)")]
    private partial void LogAccessDenied(string sid, int status, string reason, long suppressed);
}
