using Microsoft.Extensions.Options;

namespace WebApi.Configuration;

/// <summary>Refuses to start on settings that cannot work, naming the key.</summary>
internal sealed class WebApiOptionsValidator : IValidateOptions<WebApiOptions>
{
    public ValidateOptionsResult Validate(string? name, WebApiOptions options)
    {
        var failures = new List<string>();
        byte[] key = [];
        try
        {
            key = Convert.FromBase64String(options.Tickets.SigningKey);
        }
        catch (FormatException)
        {
        }

        if (key.Length < 32)
        {
            failures.Add("WebApi:Tickets:SigningKey must be the gateway's Gateway:Auth:SigningKey: base64 of at least 32 random bytes (openssl rand -base64 32)");
        }

        if (options.Tickets.WorkspaceDomain.Length > 0
            && (options.Tickets.WorkspaceDomain.Any(char.IsAsciiLetterUpper)
                || Uri.CheckHostName(options.Tickets.WorkspaceDomain.Split(':')[0]) != UriHostNameType.Dns
                || !Uri.TryCreate("http://x." + options.Tickets.WorkspaceDomain + "/", UriKind.Absolute, out _)))
        {
            failures.Add("WebApi:Tickets:WorkspaceDomain must be the gateway's Gateway:Routes:WorkspaceDomain: a lower-case DNS name with an optional port, or empty");
        }

        if (options.Tickets.Lifetime <= TimeSpan.Zero || options.Tickets.Lifetime > TimeSpan.FromMinutes(10))
        {
            failures.Add("WebApi:Tickets:Lifetime must be between 0 and 10 minutes: a ticket is used once, at once");
        }

        if (!Uri.TryCreate(options.Operator.Url, UriKind.Absolute, out _))
        {
            failures.Add("WebApi:Operator:Url must be an absolute URL (the operator's API)");
        }

        if (string.IsNullOrWhiteSpace(options.Database.ConnectionString))
        {
            failures.Add("WebApi:Database:ConnectionString is required");
        }

        if (options.Accounts.LoginAttemptsPerMinute < 1 || options.Accounts.LoginAttemptsPerAddressPerMinute < options.Accounts.LoginAttemptsPerMinute)
        {
            failures.Add("WebApi:Accounts:LoginAttemptsPerMinute must be at least 1, and LoginAttemptsPerAddressPerMinute at least as large");
        }

        ValidateMail(options, failures);
        ValidateSso(options, failures);

        // Mails link to the page, and the provider sends people back to it: never a Host a request claims.
        if ((options.Mail.Host.Length > 0 || options.Sso.Enabled)
            && (!Uri.TryCreate(options.PublicUrl, UriKind.Absolute, out var page) || (page.Scheme != Uri.UriSchemeHttps && page.Scheme != Uri.UriSchemeHttp)))
        {
            failures.Add("WebApi:PublicUrl must be the page's address as users reach it (https://ide.example.com/): mails link there and the sign-in provider sends people back there");
        }

        if (options.Operator.StatusInterval <= TimeSpan.Zero)
        {
            failures.Add("WebApi:Operator:StatusInterval must be positive");
        }

        if (options.IdleStop.Enabled)
        {
            options.Redis.Validate("WebApi:Redis", WebApiApplication.ServiceName, failures);
        }

        if (options.IdleStop.Redis is not null)
        {
            failures.Add("WebApi:IdleStop:Redis was renamed: set WebApi:Redis:Configuration instead (beside it WebApi:Redis:User, PasswordFile and TlsCaFile)");
        }

        if (options.IdleStop.Enabled && (options.IdleStop.IdleTimeout <= TimeSpan.Zero || options.IdleStop.CheckInterval <= TimeSpan.Zero))
        {
            failures.Add("WebApi:IdleStop:IdleTimeout and CheckInterval must be positive (or set WebApi:IdleStop:Enabled to false)");
        }

        foreach (var proxy in options.TrustedProxies)
        {
            if (!System.Net.IPAddress.TryParse(proxy, out _) && !System.Net.IPNetwork.TryParse(proxy, out _))
            {
                failures.Add($"WebApi:TrustedProxies: '{proxy}' is neither an IP address nor a network (10.0.0.0/8)");
            }
        }

        options.Telemetry.Validate("WebApi:Telemetry", failures);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void ValidateMail(WebApiOptions options, List<string> failures)
    {
        var mail = options.Mail;
        var accounts = options.Accounts;
        if (accounts.RequireVerifiedEmail && mail.Host.Length == 0)
        {
            failures.Add("WebApi:Accounts:RequireVerifiedEmail needs an SMTP server in WebApi:Mail:Host to send the codes (or set it to false for a closed installation)");
        }

        if (accounts.VerificationCodeLifetime < TimeSpan.FromMinutes(1) || accounts.VerificationCodeLifetime > TimeSpan.FromDays(1)
            || accounts.PasswordResetLifetime < TimeSpan.FromMinutes(1) || accounts.PasswordResetLifetime > TimeSpan.FromDays(1))
        {
            failures.Add("WebApi:Accounts:VerificationCodeLifetime and PasswordResetLifetime must be between a minute and a day");
        }

        if (accounts.MailInterval < TimeSpan.Zero || accounts.MailsPerHour < 1 || accounts.MailRequestsPerAddressPerMinute < 1)
        {
            failures.Add("WebApi:Accounts:MailInterval must not be negative, and MailsPerHour and MailRequestsPerAddressPerMinute must be at least 1");
        }

        if (mail.Host.Length == 0)
        {
            return;
        }

        if (Uri.CheckHostName(mail.Host) == UriHostNameType.Unknown || mail.Port is < 1 or > 65535)
        {
            failures.Add("WebApi:Mail:Host must be a host name or address and WebApi:Mail:Port a TCP port");
        }

        if (!MimeKit.MailboxAddress.TryParse(mail.From, out var from) || !from.Address.Contains('@', StringComparison.Ordinal))
        {
            failures.Add("WebApi:Mail:From must be the sender's address, e.g. \"Cloud IDE <noreply@example.com>\"");
        }

        if (mail.UserName.Length > 0 && !File.Exists(mail.PasswordFile))
        {
            failures.Add($"WebApi:Mail:PasswordFile must name a file holding the SMTP password of WebApi:Mail:UserName ('{mail.PasswordFile}' does not exist)");
        }

        if (mail.TlsCaFile.Length > 0 && !File.Exists(mail.TlsCaFile))
        {
            failures.Add($"WebApi:Mail:TlsCaFile '{mail.TlsCaFile}' does not exist");
        }

        if (mail.Timeout <= TimeSpan.Zero)
        {
            failures.Add("WebApi:Mail:Timeout must be positive");
        }

    }

    private static void ValidateSso(WebApiOptions options, List<string> failures)
    {
        var sso = options.Sso;
        if (!sso.Enabled)
        {
            if (!options.Accounts.LocalSignIn)
            {
                failures.Add("WebApi:Accounts:LocalSignIn=false leaves nobody a way in: configure WebApi:Sso:Authority (single sign-on) first");
            }

            return;
        }

        if (!Uri.TryCreate(sso.Authority, UriKind.Absolute, out var authority)
            || (authority.Scheme != Uri.UriSchemeHttps && (sso.RequireHttpsMetadata || authority.Scheme != Uri.UriSchemeHttp)))
        {
            failures.Add("WebApi:Sso:Authority must be the provider's issuer URL over https (http only with WebApi:Sso:RequireHttpsMetadata=false, for a provider on loopback)");
        }

        if (string.IsNullOrWhiteSpace(sso.ClientId))
        {
            failures.Add("WebApi:Sso:ClientId is required: the client registered for this platform at the provider");
        }

        if (sso.ClientSecretFile.Length > 0 && !File.Exists(sso.ClientSecretFile))
        {
            failures.Add($"WebApi:Sso:ClientSecretFile '{sso.ClientSecretFile}' does not exist");
        }

        if (!sso.Scopes.Contains("openid", StringComparer.Ordinal))
        {
            failures.Add("WebApi:Sso:Scopes must include openid");
        }

        if (sso.AllowedGroups.Length > 0 && string.IsNullOrWhiteSpace(sso.GroupClaim))
        {
            failures.Add("WebApi:Sso:AllowedGroups needs WebApi:Sso:GroupClaim, the claim that lists a person's groups");
        }
    }
}
