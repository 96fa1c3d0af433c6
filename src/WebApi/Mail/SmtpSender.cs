using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;
using ServiceDefaults.Secrets;
using WebApi.Configuration;

namespace WebApi.Mail;

/// <summary>Hands mails to the configured SMTP server over one conversation (MailKit).</summary>
public sealed class SmtpSender(IOptions<WebApiOptions> options)
{
    private readonly MailOptions _mail = options.Value.Mail;
    private readonly X509Certificate2? _authority =
        options.Value.Mail.TlsCaFile.Length > 0 ? SecretFiles.ReadCertificateAuthority(options.Value.Mail.TlsCaFile) : null;

    /// <summary>
    /// Connects, signs in when a user is configured, and offers each mail in turn; <paramref name="sent"/> is
    /// told of each one the server accepted. Throws on the first failure: what was not sent stays in the outbox.
    /// </summary>
    public async Task SendAsync(IReadOnlyList<OutgoingMail> mails, Func<OutgoingMail, Task> sent, CancellationToken cancellationToken)
    {
        using var client = new SmtpClient { Timeout = (int)_mail.Timeout.TotalMilliseconds };
        if (_authority is not null)
        {
            // A private authority publishes no revocation list the client could fetch.
            client.CheckCertificateRevocation = false;
            client.ServerCertificateValidationCallback = IssuedByAuthority;
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_mail.Timeout * Math.Max(1, mails.Count));
        await client.ConnectAsync(_mail.Host, _mail.Port, Socket(_mail.Security), deadline.Token);
        if (_mail.UserName.Length > 0)
        {
            await client.AuthenticateAsync(_mail.UserName, SecretFiles.ReadPassword(_mail.PasswordFile) ?? "", deadline.Token);
        }

        foreach (var mail in mails)
        {
            using var message = Message(mail);
            await client.SendAsync(message, deadline.Token);
            await sent(mail);
        }

        await client.DisconnectAsync(quit: true, deadline.Token);
    }

    private MimeMessage Message(OutgoingMail mail)
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(_mail.From));
        message.To.Add(MailboxAddress.Parse(mail.To));
        message.Subject = mail.Subject;
        message.Date = mail.CreatedAt;
        message.Body = new TextPart(MimeKit.Text.TextFormat.Plain) { Text = mail.TextBody };
        return message;
    }

    private static SecureSocketOptions Socket(MailSecurity security) => security switch
    {
        MailSecurity.StartTls => SecureSocketOptions.StartTls,
        MailSecurity.Tls => SecureSocketOptions.SslOnConnect,
        MailSecurity.None => SecureSocketOptions.None,
        _ => SecureSocketOptions.StartTlsWhenAvailable,
    };

    // The chain must end at the configured authority, and the certificate must name the host we asked for.
    private bool IssuedByAuthority(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch) || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
        {
            return false;
        }

        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.Add(_authority!);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain is not null)
        {
            custom.ChainPolicy.ExtraStore.AddRange(chain.ChainElements.Select(element => element.Certificate).ToArray());
        }

        return custom.Build(certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
    }
}
