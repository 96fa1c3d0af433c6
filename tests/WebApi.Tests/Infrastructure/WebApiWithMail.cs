using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;

namespace WebApi.Tests.Infrastructure;

/// <summary>The real clock moved forward by <see cref="Offset"/>: codes expire and limits pass without waiting.</summary>
public sealed class ShiftedTime : TimeProvider
{
    public TimeSpan Offset { get; set; }

    public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + Offset;
}

/// <summary>
/// The web API alone as an open installation runs it: addresses verified through mail sent to a real SMTP server
/// (<see cref="SmtpSink"/>) on loopback, and a clock the tests may move forward.
/// </summary>
public class WebApiWithMail : WebApiAlone
{
    public const string From = "noreply@ide.test";
    public const string PublicUrl = "https://ide.test/";

    public SmtpSink Smtp { get; private set; } = null!;

    public ShiftedTime Time { get; } = new();

    public override async Task InitializeAsync()
    {
        Smtp = await StartSinkAsync();
        Settings["WebApi:Accounts:RequireVerifiedEmail"] = "true";
        Settings["WebApi:Mail:Host"] = "127.0.0.1";
        Settings["WebApi:Mail:Port"] = Smtp.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Settings["WebApi:Mail:From"] = $"Cloud IDE <{From}>";
        Settings["WebApi:PublicUrl"] = PublicUrl;

        // Every test here comes from 127.0.0.1: the per-address limit is its own test's (MailFloodTests).
        Settings.TryAdd("WebApi:Accounts:MailRequestsPerAddressPerMinute", "1000");
        await base.InitializeAsync();
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await Smtp.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    /// <summary>The SMTP server the web API is given; a derived fixture may start it later or with TLS.</summary>
    protected virtual Task<SmtpSink> StartSinkAsync() => SmtpSink.StartAsync();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(services => services.AddSingleton<TimeProvider>(Time));
    }
}

/// <summary>As <see cref="WebApiWithMail"/>, with three mail requests per client address a minute.</summary>
public sealed class WebApiWithTightMailLimits : WebApiWithMail
{
    public WebApiWithTightMailLimits() => Settings["WebApi:Accounts:MailRequestsPerAddressPerMinute"] = "3";
}

/// <summary>As <see cref="WebApiWithMail"/>, with an SMTP server that is down until a test starts it.</summary>
public sealed class WebApiWithMailServerDown : WebApiWithMail
{
    protected override Task<SmtpSink> StartSinkAsync() => Task.FromResult(SmtpSink.OnFreePort());
}

/// <summary>
/// As <see cref="WebApiWithMail"/>, with an SMTP server as a provider runs one: STARTTLS with a certificate of a
/// private authority (the web API is given it as <c>TlsCaFile</c>), and sign-in required, its password in a file.
/// </summary>
public sealed class WebApiWithMailOverStartTls : WebApiWithMail
{
    public const string SmtpUser = "ide-mailer";
    private const string SmtpPassword = "smtp authorisation code";
    private readonly TestCertificates _certificates = new();

    protected override Task<SmtpSink> StartSinkAsync()
    {
        var pair = _certificates.Issue("smtp", "localhost");
        var passwordFile = Path.Combine(_certificates.Directory, "smtp-password");
        File.WriteAllText(passwordFile, SmtpPassword + "\n");
        Settings["WebApi:Mail:Security"] = "StartTls";
        Settings["WebApi:Mail:TlsCaFile"] = _certificates.RootFile;
        Settings["WebApi:Mail:UserName"] = SmtpUser;
        Settings["WebApi:Mail:PasswordFile"] = passwordFile;
        return SmtpSink.StartAsync(System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(pair.CertificateFile, pair.KeyFile), (SmtpUser, SmtpPassword));
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        _certificates.Dispose();
    }
}

/// <summary>As <see cref="WebApiWithMail"/>, on a real PostgreSQL server: codes, limits and the outbox as they run in Kubernetes.</summary>
public sealed class PostgresWebApiWithMail : WebApiWithMail
{
    public override async Task InitializeAsync()
    {
        await UsePostgresAsync();
        await base.InitializeAsync();
    }
}
