using Microsoft.EntityFrameworkCore;
using WebApi.Data;

namespace WebApi.Mail;

/// <summary>
/// Where the API leaves mail to be sent. A request never waits for an SMTP server (a slow or absent one would
/// hold or fail the user's request): it writes the mail beside what it changed and returns; the
/// <see cref="MailDelivery"/> loop sends it, retrying with back-off until it expires.
/// </summary>
public sealed class MailOutbox(TimeProvider time) : IDisposable
{
    private readonly SemaphoreSlim _posted = new(0, 1);

    /// <summary>
    /// Drops the unsent mails this one replaces (same <paramref name="replaceKey"/>) and adds it to
    /// <paramref name="db"/>'s changes; it is sent once they are saved and <see cref="Wake"/> is called.
    /// </summary>
    public async Task PostAsync(WebApiDb db, string to, string subject, string textBody, DateTimeOffset discardAfter, string? replaceKey, CancellationToken cancellationToken)
    {
        if (replaceKey is not null)
        {
            // At once, not with the caller's changes: a sender may delete the row first (sent meanwhile), which
            // a tracked deletion would take for a conflict and fail the user's request.
            await db.OutgoingMails.Where(m => m.ReplaceKey == replaceKey).ExecuteDeleteAsync(cancellationToken);
        }

        var now = time.GetUtcNow();
        db.OutgoingMails.Add(new OutgoingMail
        {
            To = to,
            Subject = subject,
            TextBody = textBody,
            CreatedAt = now,
            NextAttemptAt = now,
            DiscardAfter = discardAfter,
            ReplaceKey = replaceKey,
        });
    }

    /// <summary>Tells this replica's sender that mail was saved (others find it on their next look).</summary>
    public void Wake()
    {
        if (_posted.CurrentCount == 0)
        {
            try
            {
                _posted.Release();
            }
            catch (SemaphoreFullException)
            {
                // Woken already by a concurrent post: one wake-up sends everything due.
            }
        }
    }

    public void Dispose() => _posted.Dispose();

    internal Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        _posted.WaitAsync(timeout, cancellationToken);
}
