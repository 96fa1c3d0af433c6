using System.Diagnostics.Metrics;
using MailKit.Net.Smtp;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using WebApi.Configuration;
using WebApi.Data;

namespace WebApi.Mail;

/// <summary>
/// Sends what the <see cref="MailOutbox"/> holds: at once when this replica posted it, otherwise on its next
/// look. A mail the server refuses or cannot take is tried again after 5 s, 10 s, 20 s… (at most 5 minutes
/// apart) until it expires, each failure logged as a warning with the server's words and counted; nobody's
/// request waits for it. Several replicas share the table: a sender takes a mail by moving its next attempt
/// forward only if nobody else did first, so no mail goes out twice from two replicas.
/// </summary>
internal sealed partial class MailDelivery(
    MailOutbox outbox,
    SmtpSender smtp,
    IServiceScopeFactory scopes,
    IOptions<WebApiOptions> options,
    TimeProvider time,
    IMeterFactory meters,
    ILogger<MailDelivery> logger) : BackgroundService
{
    public const string MeterName = "WebApi.Mail";

    private const int Batch = 20;
    private static readonly TimeSpan Look = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan LongestRetry = TimeSpan.FromMinutes(5);

    private readonly Meter _meter = meters.Create(MeterName);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.Mail.Host.Length == 0)
        {
            return;
        }

        var sent = _meter.CreateCounter<long>("webapi.mail.sent", description: "Mails the SMTP server accepted");
        var failed = _meter.CreateCounter<long>("webapi.mail.failed", description: "Attempts to send a mail that failed (it is tried again)");
        var discarded = _meter.CreateCounter<long>("webapi.mail.discarded", description: "Mails dropped unsent because what they carried expired");
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await SendDueAsync(sent, failed, discarded, stoppingToken);
                await outbox.WaitAsync(Look, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // The database away: the next look tries again; an exception escaping would stop the web API.
                LogOutboxUnreadable(ex.Message);
                await Task.Delay(Look, time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    private async Task SendDueAsync(Counter<long> sent, Counter<long> failed, Counter<long> discarded, CancellationToken stoppingToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<WebApiDb>();
        var now = time.GetUtcNow();
        var due = await db.OutgoingMails.AsNoTracking().Where(m => m.NextAttemptAt <= now).OrderBy(m => m.NextAttemptAt).Take(Batch).ToListAsync(stoppingToken);
        var taken = new List<OutgoingMail>();
        foreach (var mail in due)
        {
            if (mail.DiscardAfter <= now)
            {
                if (await db.OutgoingMails.Where(m => m.Id == mail.Id && m.NextAttemptAt == mail.NextAttemptAt).ExecuteDeleteAsync(stoppingToken) == 1)
                {
                    discarded.Add(1);
                    LogDiscarded(mail.Id, mail.Subject, MailDomain.Of(mail.To), mail.Attempts, mail.LastError ?? "never tried");
                }

                continue;
            }

            // Taken for as long as an attempt may last; a replica that dies holding it only delays it.
            var lease = now + (options.Value.Mail.Timeout * 2);
            if (await db.OutgoingMails.Where(m => m.Id == mail.Id && m.NextAttemptAt == mail.NextAttemptAt)
                    .ExecuteUpdateAsync(set => set.SetProperty(m => m.NextAttemptAt, lease), stoppingToken) == 1)
            {
                taken.Add(mail);
            }
        }

        if (taken.Count == 0)
        {
            return;
        }

        var delivered = new HashSet<long>();
        try
        {
            await smtp.SendAsync(taken, async mail =>
            {
                delivered.Add(mail.Id);
                await db.OutgoingMails.Where(m => m.Id == mail.Id).ExecuteDeleteAsync(CancellationToken.None);
                sent.Add(1);
                var domain = MailDomain.Of(mail.To);
                var attempt = mail.Attempts + 1;
                LogSent(mail.Id, mail.Subject, domain, attempt);
            }, stoppingToken);
        }
        catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
        {
            var reason = ex.Message.Length > 500 ? ex.Message[..500] : ex.Message;
            var undelivered = taken.Where(m => !delivered.Contains(m.Id)).ToList();

            // The server answers for one recipient at a time: a permanent refusal (5xx, RFC 5321 §4.2.1: the
            // mailbox does not exist) is the mail being offered, and trying it again cannot help.
            if (ex is SmtpCommandException { ErrorCode: SmtpErrorCode.RecipientNotAccepted, StatusCode: >= (SmtpStatusCode)500 } && undelivered.Count > 0)
            {
                var refused = undelivered[0];
                undelivered.RemoveAt(0);
                await db.OutgoingMails.Where(m => m.Id == refused.Id).ExecuteDeleteAsync(CancellationToken.None);
                discarded.Add(1);
                LogRefusedForGood(refused.Id, refused.Subject, MailDomain.Of(refused.To), options.Value.Mail.Host, reason);

                // The rest were not offered: due again at once, no attempt counted.
                var again = time.GetUtcNow();
                foreach (var mail in undelivered)
                {
                    await db.OutgoingMails.Where(m => m.Id == mail.Id).ExecuteUpdateAsync(set => set.SetProperty(m => m.NextAttemptAt, again), CancellationToken.None);
                }

                outbox.Wake();
                return;
            }

            foreach (var mail in undelivered)
            {
                var attempts = mail.Attempts + 1;
                var retry = TimeSpan.FromTicks(Math.Min(LongestRetry.Ticks, FirstRetry.Ticks << Math.Min(attempts - 1, 16)));
                await db.OutgoingMails.Where(m => m.Id == mail.Id).ExecuteUpdateAsync(
                    set => set.SetProperty(m => m.Attempts, attempts).SetProperty(m => m.LastError, reason).SetProperty(m => m.NextAttemptAt, time.GetUtcNow() + retry),
                    CancellationToken.None);
                failed.Add(1);
                LogFailed(mail.Id, mail.Subject, MailDomain.Of(mail.To), attempts, options.Value.Mail.Host, reason, retry.TotalSeconds);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Mail {MailId} ({Subject}) to a user at {Domain} sent (attempt {Attempt})")]
    private partial void LogSent(long mailId, string subject, string domain, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Mail {MailId} ({Subject}) to a user at {Domain} not sent (attempt {Attempt}) by {SmtpHost}: {Reason}; trying again in {RetrySeconds} s")]
    private partial void LogFailed(long mailId, string subject, string domain, int attempt, string smtpHost, string reason, double retrySeconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "Mail {MailId} ({Subject}) to a user at {Domain} refused for good by {SmtpHost}: {Reason}; dropped")]
    private partial void LogRefusedForGood(long mailId, string subject, string domain, string smtpHost, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Mail {MailId} ({Subject}) to a user at {Domain} dropped unsent after {Attempts} attempts: what it carried expired (last failure: {LastError})")]
    private partial void LogDiscarded(long mailId, string subject, string domain, int attempts, string lastError);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The outbox cannot be read ({Reason}); looking again in 5 s")]
    private partial void LogOutboxUnreadable(string reason);
}
