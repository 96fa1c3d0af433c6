using Contracts.Routing;
using Contracts.Tickets;
using ServiceDefaults.Hosting;
using ServiceDefaults.Redis;
using ServiceDefaults.Telemetry;

namespace WebApi.Configuration;

public enum DatabaseProvider
{
    Sqlite,
    Postgres,
}

/// <summary>The <c>WebApi</c> section of config/webapi.json.</summary>
public sealed class WebApiOptions
{
    public const string SectionName = "WebApi";

    public DatabaseOptions Database { get; set; } = new();

    public OperatorApiOptions Operator { get; set; } = new();

    public TicketOptions Tickets { get; set; } = new();

    public AccountOptions Accounts { get; set; } = new();

    public IdleStopOptions IdleStop { get; set; } = new();

    /// <summary>Single sign-on through the organisation's OpenID Connect provider.</summary>
    public SsoOptions Sso { get; set; } = new();

    /// <summary>How the platform sends mail: verification codes and password-reset links.</summary>
    public MailOptions Mail { get; set; } = new();

    /// <summary>The gateway's Redis, where the web API reads the activity the gateway records, as the web API's own Redis user (connected only with idle stop on).</summary>
    public RedisConnectionOptions Redis { get; set; } = new();

    /// <summary>OpenTelemetry export over OTLP; off unless an endpoint is set.</summary>
    public TelemetryExportOptions Telemetry { get; set; } = new();

    /// <summary>Where the SQLite file (by default) and the session cookie keys live.</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>Templates and specs seeded at start (config/catalog.json).</summary>
    public string CatalogFile { get; set; } = "catalog.json";

    /// <summary>
    /// Whether the operator runs workspaces as local processes (its local driver, <c>./run.sh</c>): then every
    /// workspace is the code-server installed on that machine with its tools, and templates' images and sizes
    /// do not apply. The page says so instead of promising them.
    /// </summary>
    public bool WorkspacesOnOneMachine { get; set; }

    /// <summary>
    /// Addresses or networks (CIDR) of the reverse proxies in front of this API (the gateway, ./run.sh):
    /// their X-Forwarded-For and -Proto are believed, so the log-in throttle counts each client's address
    /// instead of the proxy's, and the cookie is Secure behind TLS. Empty: the connection is the client.
    /// </summary>
    public string[] TrustedProxies { get; set; } = [];

    /// <summary>
    /// The page's address as users reach it (<c>https://ide.example.com/</c>): the base of the links in mails.
    /// Never taken from a request, whose Host a sender of a password-reset request chooses. Needed with mail.
    /// </summary>
    public string PublicUrl { get; set; } = "";
}

public sealed class DatabaseOptions
{
    public DatabaseProvider Provider { get; set; } = DatabaseProvider.Sqlite;

    /// <summary>SQLite: a file under the data folder; PostgreSQL: an Npgsql connection string.</summary>
    public string ConnectionString { get; set; } = "Data Source=data/webapi.db";
}

public sealed class OperatorApiOptions
{
    public string Url { get; set; } = "http://127.0.0.1:5080";

    /// <summary>The operator's <c>Operator:Api:Token</c>, when it has one.</summary>
    public string Token { get; set; } = "";

    /// <summary>How long a start may take before the user is told it did not finish.</summary>
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How often the operator is asked what every workspace is doing (the page's truth and progress).</summary>
    public TimeSpan StatusInterval { get; set; } = TimeSpan.FromSeconds(1);
}

public sealed class TicketOptions
{
    /// <summary>The gateway's <c>Gateway:Auth:SigningKey</c>: base64 of at least 32 random bytes.</summary>
    public string SigningKey { get; set; } = "";

    public string Audience { get; set; } = TicketContract.DefaultAudience;

    /// <summary>A ticket only has to reach the gateway once; the gateway then sets its own session.</summary>
    public TimeSpan Lifetime { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Where the gateway is, as the browser sees it; empty: same origin as this API.</summary>
    public string GatewayUrl { get; set; } = "";

    /// <summary>
    /// The gateway's <c>Gateway:Routes:WorkspaceDomain</c> (e.g. <c>localhost:8080</c>): editors open on
    /// <c>&lt;sid&gt;.&lt;domain&gt;</c> and shared ports on <c>&lt;port&gt;--&lt;sid&gt;.&lt;domain&gt;</c>, over
    /// <see cref="GatewayUrl"/>'s scheme (this API's when that is empty). Empty: editors open by path.
    /// </summary>
    public string WorkspaceDomain { get; set; } = "";
}

public sealed class AccountOptions
{
    public string CookieName { get; set; } = "ide_session";

    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Log-in attempts, failed or not, allowed per user name each minute.</summary>
    public int LoginAttemptsPerMinute { get; set; } = 10;

    /// <summary>Log-in attempts allowed per client address each minute.</summary>
    public int LoginAttemptsPerAddressPerMinute { get; set; } = 100;

    /// <summary>
    /// Whether a new account proves its e-mail address (a code sent there) before it may create or start a
    /// workspace. Needs <see cref="WebApiOptions.Mail"/>; false for a closed installation whose accounts an
    /// administrator vouches for.
    /// </summary>
    public bool RequireVerifiedEmail { get; set; } = true;

    /// <summary>
    /// Whether people register and sign in with a user name and password here. False: only through
    /// <see cref="WebApiOptions.Sso"/> (an organisation whose accounts live in its identity provider).
    /// </summary>
    public bool LocalSignIn { get; set; } = true;

    /// <summary>How long a verification code may be used.</summary>
    public TimeSpan VerificationCodeLifetime { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>How long a password-reset link may be used.</summary>
    public TimeSpan PasswordResetLifetime { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>The shortest time between two mails of one kind to one account (a resend, a second reset).</summary>
    public TimeSpan MailInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The most mails of one kind one account is sent per hour.</summary>
    public int MailsPerHour { get; set; } = 5;

    /// <summary>
    /// Requests that send mail (registrations, resent codes, reset links) allowed per client address each
    /// minute, over all accounts: a class registering at once behind one address needs room.
    /// </summary>
    public int MailRequestsPerAddressPerMinute { get; set; } = 20;
}

public sealed class SsoOptions
{
    /// <summary>The provider's issuer (<c>https://login.example.com/realms/acme</c>); empty: no single sign-on.</summary>
    public string Authority { get; set; } = "";

    public string ClientId { get; set; } = "";

    /// <summary>A file holding the client secret (a mounted Secret); empty: a public client (PKCE alone).</summary>
    public string ClientSecretFile { get; set; } = "";

    /// <summary>What the button says after "Sign in with": the organisation or provider.</summary>
    public string DisplayName { get; set; } = "your organisation";

    public string[] Scopes { get; set; } = ["openid", "profile", "email"];

    /// <summary>Only people whose e-mail address is in one of these domains may sign in; empty: any.</summary>
    public string[] AllowedEmailDomains { get; set; } = [];

    /// <summary>The claim listing a person's groups (Keycloak, Okta, Entra ID: <c>groups</c>).</summary>
    public string GroupClaim { get; set; } = "groups";

    /// <summary>Only members of one of these groups may sign in; empty: any.</summary>
    public string[] AllowedGroups { get; set; } = [];

    /// <summary>False only for a provider on plain HTTP on loopback (tests, a laptop).</summary>
    public bool RequireHttpsMetadata { get; set; } = true;

    public bool Enabled => Authority.Length > 0;
}

public enum MailSecurity
{
    /// <summary>STARTTLS when the server offers it, plain otherwise (what most relays expect on 587 and 25).</summary>
    Auto,

    /// <summary>STARTTLS, and no mail to a server that does not offer it.</summary>
    StartTls,

    /// <summary>TLS from the first byte (port 465).</summary>
    Tls,

    /// <summary>Never TLS: a relay on the same host or a test sink.</summary>
    None,
}

public sealed class MailOptions
{
    /// <summary>The SMTP server; empty: no mail is sent.</summary>
    public string Host { get; set; } = "";

    public int Port { get; set; } = 587;

    public MailSecurity Security { get; set; } = MailSecurity.Auto;

    /// <summary>The SMTP user, when the server wants one (the old platform's "authorisation code" account).</summary>
    public string UserName { get; set; } = "";

    /// <summary>A file holding the SMTP password (a mounted Secret): never in the configuration itself.</summary>
    public string PasswordFile { get; set; } = "";

    /// <summary>The sender, e.g. <c>Cloud IDE &lt;noreply@example.com&gt;</c>.</summary>
    public string From { get; set; } = "";

    /// <summary>A PEM file of the authority that signed the SMTP server's certificate, when it is a private one.</summary>
    public string TlsCaFile { get; set; } = "";

    /// <summary>How long one conversation with the server may take before it counts as failed.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);
}

public sealed class IdleStopOptions
{
    /// <summary>Needs the gateway's activity records (Gateway:Activity): without them every workspace stops after the timeout.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>A running workspace without use for this long is stopped.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(60);

    public TimeSpan CheckInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Renamed to <c>WebApi:Redis:Configuration</c>; still set, it stops the start with a sentence saying so.</summary>
    [RenamedSetting("WebApi:Redis:Configuration")]
    public string? Redis { get; set; }

    /// <summary>Sorted set of sid -> unix seconds of last use, written by the gateway.</summary>
    public string ActivityKey { get; set; } = RouteStore.ActivityKey;
}
