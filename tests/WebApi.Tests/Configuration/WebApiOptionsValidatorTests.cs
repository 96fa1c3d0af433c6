using WebApi.Configuration;

namespace WebApi.Tests.Configuration;

public sealed class WebApiOptionsValidatorTests
{
    private static readonly string Key = Convert.ToBase64String(new byte[32]);

    [Fact]
    public void The_renamed_redis_setting_stops_the_start_and_names_its_new_key()
    {
        var result = new WebApiOptionsValidator().Validate(null, new WebApiOptions { Tickets = { SigningKey = Key }, IdleStop = { Redis = "redis:6379" } });

        Assert.False(result.Succeeded);
        Assert.Contains("WebApi:IdleStop:Redis was renamed: set WebApi:Redis:Configuration", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void The_redis_sign_in_is_checked_only_when_idle_stop_needs_redis()
    {
        var signIn = new WebApiOptions { Tickets = { SigningKey = Key }, Redis = { User = "webapi" }, Accounts = { RequireVerifiedEmail = false } };
        Assert.Contains("WebApi:Redis:User 'webapi' needs its password", new WebApiOptionsValidator().Validate(null, signIn).FailureMessage, StringComparison.Ordinal);

        signIn.IdleStop.Enabled = false;
        Assert.True(new WebApiOptionsValidator().Validate(null, signIn).Succeeded);
    }

    [Fact]
    public void Verification_needs_a_mail_server_and_mail_needs_a_sender_and_the_pages_address()
    {
        var open = new WebApiOptions { Tickets = { SigningKey = Key }, IdleStop = { Enabled = false } };
        Assert.Contains("WebApi:Accounts:RequireVerifiedEmail needs an SMTP server in WebApi:Mail:Host", Failures(open), StringComparison.Ordinal);

        open.Accounts.RequireVerifiedEmail = false;
        Assert.True(new WebApiOptionsValidator().Validate(null, open).Succeeded);

        open.Accounts.RequireVerifiedEmail = true;
        open.Mail.Host = "smtp.example.com";
        var failures = Failures(open);
        Assert.Contains("WebApi:Mail:From must be the sender's address", failures, StringComparison.Ordinal);
        Assert.Contains("WebApi:PublicUrl must be the page's address", failures, StringComparison.Ordinal);

        open.Mail.From = "Cloud IDE <noreply@example.com>";
        open.PublicUrl = "https://ide.example.com/";
        open.Mail.UserName = "mailer";
        open.Mail.PasswordFile = "/nonexistent/smtp-password";
        Assert.Contains("WebApi:Mail:PasswordFile must name a file", Failures(open), StringComparison.Ordinal);

        open.Mail.UserName = "";
        Assert.True(new WebApiOptionsValidator().Validate(null, open).Succeeded);
    }

    [Fact]
    public void Single_sign_on_needs_a_provider_over_https_a_client_and_the_pages_address_and_passwords_off_needs_it()
    {
        var closed = new WebApiOptions { Tickets = { SigningKey = Key }, IdleStop = { Enabled = false }, Accounts = { RequireVerifiedEmail = false, LocalSignIn = false } };
        Assert.Contains("WebApi:Accounts:LocalSignIn=false leaves nobody a way in", Failures(closed), StringComparison.Ordinal);

        closed.Sso.Authority = "http://login.example.com/";
        var failures = Failures(closed);
        Assert.Contains("WebApi:Sso:Authority must be the provider's issuer URL over https", failures, StringComparison.Ordinal);
        Assert.Contains("WebApi:Sso:ClientId is required", failures, StringComparison.Ordinal);
        Assert.Contains("WebApi:PublicUrl must be the page's address", failures, StringComparison.Ordinal);

        closed.Sso.Authority = "https://login.example.com/realms/acme";
        closed.Sso.ClientId = "cloud-ide";
        closed.PublicUrl = "https://ide.example.com/";
        Assert.True(new WebApiOptionsValidator().Validate(null, closed).Succeeded, Failures(closed));
    }

    private static string Failures(WebApiOptions options) => new WebApiOptionsValidator().Validate(null, options).FailureMessage ?? "";
}
